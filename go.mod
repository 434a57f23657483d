module github.com/ndisbench/ndisbench

go 1.24

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
	github.com/anishathalye/porcupine v1.3.1 // indirect
	github.com/montanaflynn/stats v0.14.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
