package report

// SampleSet writes a small result set for the examples (sampleSet).
var SampleSet = sampleSet
