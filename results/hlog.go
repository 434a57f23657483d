package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// IntervalLogVersion is the HdrHistogram interval log format version IntervalLogWriter
// writes and IntervalLogReader reads (any 1.x).
const IntervalLogVersion = "1.3"

// DefaultMaxValueRatio is what IntervalLogWriter divides a histogram's maximum by for the
// informational Interval_Max column unless told otherwise: 1e6, nanoseconds to
// milliseconds, HdrHistogram's own default.
const DefaultMaxValueRatio = 1e6

// MaxIntervalLogLine is the longest line, in bytes, IntervalLogReader accepts.
const MaxIntervalLogLine = 16 << 20

// ErrSyntax reports a malformed line in an interval log.
var ErrSyntax = errors.New("syntax error")

// IntervalSet is the histograms of one interval of a run, keyed by tag (the histogram's
// name), dense or sparse (the form a long run keeps its intervals in); a tag must not
// be in both.
type IntervalSet struct {
	Start      time.Duration // interval start, since the log's base time
	Length     time.Duration // interval length
	Histograms map[string]*hdrhistogram.Histogram
	Packed     map[string]*hdrhistogram.PackedHistogram
}

// Interval is one tagged interval histogram of an interval log.
type Interval struct {
	Tag       string        // the histogram's name; "" for an untagged line
	Start     time.Duration // interval start as logged: since the log's base time (see IntervalLogReader.BaseTime)
	Length    time.Duration // interval length
	Max       float64       // the Interval_Max column as logged (informational, scaled by the writer)
	Histogram *hdrhistogram.Histogram
	Line      int // the line it was read from; 0 for intervals not read from a log
}

// IntervalLogWriter writes an HdrHistogram interval log, format 1.3, readable by
// HdrHistogram's HistogramLogReader, HistogramLogProcessor and hdrhistogram-go's
// NewHistogramLogReader. The log starts with the format version, "#[StartTime: ...]" and
// "#[BaseTime: ...]" (both the start time passed to NewIntervalLogWriter) and the legend;
// each interval histogram is a line "Tag=NAME,START,LENGTH,MAX,BASE64" where START is in
// seconds since the base time and LENGTH in seconds, both with three decimals
// (milliseconds, the format's resolution), and MAX is the histogram's maximum divided by
// the tag's ratio (SetMaxValueRatio). Not safe for concurrent use.
//
// hdrhistogram-go's own HistogramLogWriter is not used: it writes the start time in whole
// seconds and timestamps with six decimals where Java writes three, and its reader skips
// malformed lines without saying where. Nor is its histogram encoder: each line's
// histogram is encoded by a reused encoder at a tenth of the cost (packedEncoder), as
// an interval log may be written while a run goes on.
type IntervalLogWriter struct {
	w      *bufio.Writer
	ratios map[string]float64
	enc    packedEncoder
	line   []byte
	err    error
}

// NewIntervalLogWriter writes the log's header to w, with start as its start and base
// time, and returns a writer for its intervals. Call Flush when done.
func NewIntervalLogWriter(w io.Writer, start time.Time) (*IntervalLogWriter, error) {
	lw := newLogWriter(w)
	if err := lw.header(start); err != nil {
		return nil, err
	}
	return lw, nil
}

// newLogWriter returns a writer to w that has written nothing yet: header comes first.
func newLogWriter(w io.Writer) *IntervalLogWriter {
	return &IntervalLogWriter{w: bufio.NewWriter(w), ratios: make(map[string]float64)}
}

// header writes the log's header, start being its start and base time, and flushes it.
func (lw *IntervalLogWriter) header(start time.Time) error {
	secs := float64(start.UnixMilli()) / 1000
	fmt.Fprintf(lw.w, "#[Histogram log format version %s]\n", IntervalLogVersion)
	fmt.Fprintf(lw.w, "#[StartTime: %.3f (seconds since epoch), %s]\n", secs, start.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(lw.w, "#[BaseTime: %.3f (seconds since epoch)]\n", secs)
	lw.w.WriteString("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n")
	return lw.Flush()
}

// warm makes the writer's buffers and compressor now, each as large as the line of a
// latency histogram with every bucket needs, so that writing intervals while a run goes
// on allocates nothing and takes no page fault.
func (lw *IntervalLogWriter) warm() {
	p := hdrhistogram.NewPacked(1, 10e9, 3)
	for v := int64(1); v <= 10e9; v += max(1, v/2048) {
		_ = p.RecordValues(v, 1<<40/v+1)
	}
	enc, err := lw.enc.encode(p)
	if err == nil {
		lw.line = append(lw.line[:0], make([]byte, len(enc)+256)...)[:0]
	}
}

// SetMaxValueRatio sets what the writer divides tag's histogram maxima by for the
// Interval_Max column (DefaultMaxValueRatio until set): 1e6 logs nanoseconds as
// milliseconds, 1 logs counts as they are. ratio must be positive.
func (lw *IntervalLogWriter) SetMaxValueRatio(tag string, ratio float64) error {
	if !(ratio > 0) || math.IsInf(ratio, 1) {
		return fmt.Errorf("results: interval log: max value ratio %v for tag %q is not a positive number", ratio, tag)
	}
	lw.ratios[tag] = ratio
	return nil
}

// WriteSet writes one line per histogram of set, in increasing tag order.
func (lw *IntervalLogWriter) WriteSet(set IntervalSet) error {
	if len(set.Histograms) == 0 && len(set.Packed) == 1 {
		for tag, h := range set.Packed { // one line, nothing to sort: what a streamed run writes
			return lw.writePacked(tag, set.Start, set.Length, h)
		}
	}
	tags := append(sortedKeys(set.Histograms), sortedKeys(set.Packed)...)
	sort.Strings(tags)
	for i, tag := range tags {
		if i > 0 && tags[i-1] == tag {
			return fmt.Errorf("results: interval log: tag %q is both dense and sparse in one interval", tag)
		}
		var err error
		if h, ok := set.Histograms[tag]; ok {
			err = lw.Write(Interval{Tag: tag, Start: set.Start, Length: set.Length, Histogram: h})
		} else {
			err = lw.writePacked(tag, set.Start, set.Length, set.Packed[tag])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writePacked writes one interval line for a sparse histogram.
func (lw *IntervalLogWriter) writePacked(tag string, start, length time.Duration, h *hdrhistogram.PackedHistogram) error {
	if h == nil {
		return fmt.Errorf("results: interval log: tag %q: nil histogram", tag)
	}
	if err := lw.checkLine(tag, start, length); err != nil {
		return err
	}
	enc, err := lw.enc.encode(h)
	if err != nil {
		return fmt.Errorf("results: interval log: tag %q: encode: %w", tag, err)
	}
	var maxValue int64
	if h.TotalCount() > 0 {
		maxValue = h.Max()
	}
	lw.writeLine(tag, start, length, maxValue, enc)
	return nil
}

// checkLine checks what every interval line needs: no earlier error, a valid tag, and
// start and length not negative.
func (lw *IntervalLogWriter) checkLine(tag string, start, length time.Duration) error {
	if lw.err != nil {
		return lw.err
	}
	if err := CheckName("tag", tag); err != nil {
		return fmt.Errorf("results: interval log: %w", err)
	}
	if start < 0 || length < 0 {
		return fmt.Errorf("results: interval log: tag %q: negative start %v or length %v", tag, start, length)
	}
	return nil
}

// writeLine writes one interval line, its max scaled by the tag's ratio. Start and
// length are rounded to the millisecond independently, as the format's readers add them
// up from what is printed.
func (lw *IntervalLogWriter) writeLine(tag string, start, length time.Duration, maxValue int64, enc []byte) {
	ratio, ok := lw.ratios[tag]
	if !ok {
		ratio = DefaultMaxValueRatio
	}
	// "Tag=%s,%.3f,%.3f,%.3f,%s\n", without fmt's allocations.
	b := append(lw.line[:0], "Tag="...)
	b = append(b, tag...)
	for _, x := range []float64{start.Seconds(), length.Seconds(), float64(maxValue) / ratio} {
		b = strconv.AppendFloat(append(b, ','), x, 'f', 3, 64)
	}
	b = append(append(append(b, ','), enc...), '\n')
	lw.w.Write(b)
	lw.line = b
}

// Write writes one interval histogram line. Its Max field is ignored: the column is
// computed from the histogram. The tag must be a valid name (letters, digits and
// "._=+-"); Start and Length must not be negative.
func (lw *IntervalLogWriter) Write(iv Interval) error {
	if err := lw.checkLine(iv.Tag, iv.Start, iv.Length); err != nil {
		return err
	}
	if iv.Histogram == nil {
		return fmt.Errorf("results: interval log: tag %q: nil histogram", iv.Tag)
	}
	h := iv.Histogram
	p := hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	p.MergeFrom(h)
	enc, err := lw.enc.encode(p) // the encoding of every line, dense or sparse
	if err != nil {
		return fmt.Errorf("results: interval log: tag %q: encode: %w", iv.Tag, err)
	}
	var maxValue int64
	if iv.Histogram.TotalCount() > 0 {
		maxValue = iv.Histogram.Max()
	}
	lw.writeLine(iv.Tag, iv.Start, iv.Length, maxValue, enc)
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (lw *IntervalLogWriter) Flush() error {
	if lw.err != nil {
		return lw.err
	}
	if err := lw.w.Flush(); err != nil {
		lw.err = fmt.Errorf("results: interval log: %w", err)
	}
	return lw.err
}

// IntervalLogReader reads an HdrHistogram interval log (format 1.x, tagged or not), one
// interval histogram at a time, like bufio.Scanner:
//
//	lr := results.NewIntervalLogReader(f, "msix.hlog")
//	for lr.Scan() {
//		iv := lr.Interval()
//		...
//	}
//	if err := lr.Err(); err != nil { ... }
//
// Comment lines (starting with '#'), the legend line and blank lines are skipped, except
// that "#[StartTime: ...]", "#[BaseTime: ...]" and "#[Histogram log format version ...]"
// are parsed; a version whose major is not 1 is refused. Any other line must be an
// interval line; anything wrong with it stops the reader with a *ParseError naming the
// file and line.
type IntervalLogReader struct {
	sc      *bufio.Scanner
	file    string
	line    int
	cur     Interval
	err     error
	start   time.Time
	base    time.Time
	hasBase bool
	version string
	first   time.Duration // the first interval's start, for BaseTime's guess
	any     bool          // an interval has been read
}

// NewIntervalLogReader returns a reader of the interval log r. file names it in errors.
func NewIntervalLogReader(r io.Reader, file string) *IntervalLogReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxIntervalLogLine)
	return &IntervalLogReader{sc: sc, file: file}
}

// Scan advances to the next interval histogram and reports whether there is one. It
// returns false at the end of the log or at the first error; Err tells which.
func (lr *IntervalLogReader) Scan() bool {
	if lr.err != nil {
		return false
	}
	for lr.sc.Scan() {
		lr.line++
		line := bytes.TrimRight(lr.sc.Bytes(), "\r")
		switch {
		case len(bytes.TrimSpace(line)) == 0, line[0] == '"':
			continue
		case line[0] == '#':
			if err := lr.header(string(line)); err != nil {
				lr.fail(err)
				return false
			}
			continue
		}
		iv, err := parseIntervalLine(string(line))
		if err != nil {
			lr.fail(err)
			return false
		}
		iv.Line = lr.line
		lr.cur = iv
		if !lr.any {
			lr.first, lr.any = iv.Start, true
		}
		return true
	}
	if err := lr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes: %w", MaxIntervalLogLine, ErrTooLarge)
		}
		lr.line++
		lr.fail(err)
	}
	return false
}

func (lr *IntervalLogReader) fail(err error) {
	lr.err = &ParseError{File: lr.file, Line: lr.line, Err: err}
	lr.cur = Interval{}
}

// header parses the comment lines that carry information.
func (lr *IntervalLogReader) header(line string) error {
	switch {
	case strings.HasPrefix(line, "#[StartTime: "):
		t, err := headerTime(line[len("#[StartTime: "):])
		if err != nil {
			return fmt.Errorf("start time: %w", err)
		}
		lr.start = t
	case strings.HasPrefix(line, "#[BaseTime: "):
		t, err := headerTime(line[len("#[BaseTime: "):])
		if err != nil {
			return fmt.Errorf("base time: %w", err)
		}
		lr.base, lr.hasBase = t, true
	case strings.HasPrefix(line, "#[Histogram log format version "):
		v, _, _ := strings.Cut(line[len("#[Histogram log format version "):], "]")
		if major, _, _ := strings.Cut(v, "."); major != "1" {
			return fmt.Errorf("log format version %q is not supported (this reader reads 1.x): %w", v, ErrVersion)
		}
		lr.version = v
	}
	return nil
}

// headerTime parses the seconds since the epoch that start a StartTime or BaseTime line.
func headerTime(s string) (time.Time, error) {
	num, _, _ := strings.Cut(s, " ")
	num = strings.TrimRight(num, ",]")
	secs, err := parseSeconds(num)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, 0).Add(secs).UTC(), nil
}

// parseIntervalLine parses "[Tag=TAG,]START,LENGTH,MAX,BASE64".
func parseIntervalLine(line string) (Interval, error) {
	var iv Interval
	if rest, ok := strings.CutPrefix(line, "Tag="); ok {
		tag, after, ok := strings.Cut(rest, ",")
		if !ok || tag == "" || strings.ContainsAny(tag, " \t") {
			return Interval{}, fmt.Errorf("malformed tag in %q: %w", abbreviate(line), ErrSyntax)
		}
		iv.Tag, line = tag, after
	}
	f := strings.Split(line, ",")
	if len(f) != 4 {
		return Interval{}, fmt.Errorf("want START,LENGTH,MAX,HISTOGRAM, got %d fields in %q: %w", len(f), abbreviate(line), ErrSyntax)
	}
	var err error
	if iv.Start, err = parseSeconds(f[0]); err != nil {
		return Interval{}, fmt.Errorf("start timestamp: %w", err)
	}
	if iv.Length, err = parseSeconds(f[1]); err != nil {
		return Interval{}, fmt.Errorf("interval length: %w", err)
	}
	if iv.Max, err = strconv.ParseFloat(f[2], 64); err != nil || !finiteNonNeg(iv.Max) {
		return Interval{}, fmt.Errorf("interval max %q is not a non-negative number: %w", abbreviate(f[2]), ErrSyntax)
	}
	if iv.Histogram, err = hdrhistogram.Decode([]byte(f[3])); err != nil {
		return Interval{}, fmt.Errorf("histogram: %v: %w", err, ErrSyntax)
	}
	if iv.Tag != "" {
		iv.Histogram.SetTag(iv.Tag)
	}
	return iv, nil
}

// maxLogSeconds bounds timestamps so that they fit a time.Duration (about 292 years).
const maxLogSeconds = math.MaxInt64/int64(time.Second) - 1

// parseSeconds parses a non-negative decimal number of seconds ("1441812279.474", "2",
// "0.000001"), exactly to the nanosecond (further digits are truncated): epoch timestamps
// have more digits than a float64 holds in nanoseconds.
func parseSeconds(s string) (time.Duration, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%q is not a number of seconds: %w", abbreviate(s), ErrSyntax)
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) || len(intPart) > 12 {
		return bad()
	}
	var secs int64
	if intPart != "" {
		var err error
		if secs, err = strconv.ParseInt(intPart, 10, 64); err != nil || secs > maxLogSeconds {
			return bad()
		}
	}
	frac = (frac + "000000000")[:9]
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return bad()
	}
	return time.Duration(secs)*time.Second + time.Duration(ns), nil
}

func allDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// abbreviate shortens s for an error message.
func abbreviate(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Interval returns the interval histogram Scan found. The histogram is the caller's.
func (lr *IntervalLogReader) Interval() Interval { return lr.cur }

// Err returns the error that stopped Scan, nil at the end of the log. It is a *ParseError.
func (lr *IntervalLogReader) Err() error { return lr.err }

// StartTime returns the log's "#[StartTime: ...]", read up to the last interval Scan
// returned; the zero time if none was.
func (lr *IntervalLogReader) StartTime() time.Time { return lr.start }

// BaseTime returns the time interval starts are relative to: the log's "#[BaseTime: ...]"
// if it has one. Without one it is, as HdrHistogram's readers decide, the start time when
// the first interval starts more than a year before it (relative timestamps), and the
// epoch otherwise (absolute timestamps). An interval began at BaseTime().Add(iv.Start).
func (lr *IntervalLogReader) BaseTime() time.Time {
	if lr.hasBase {
		return lr.base
	}
	if lr.any && !lr.start.IsZero() && lr.first.Seconds() < float64(lr.start.Unix())-365*24*3600 {
		return lr.start
	}
	return time.Unix(0, 0).UTC()
}

// Version returns the log's format version, "" if it did not say.
func (lr *IntervalLogReader) Version() string { return lr.version }
