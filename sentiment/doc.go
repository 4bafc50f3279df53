// Package sentiment owns the lexicon-based sentiment scorer for posts and
// reviews about Kedah destinations, written in English, Malay or a mix of both.
// It imports only the standard library and golang.org/x/text, and keeps its
// word lists in Go source: nothing is downloaded or read at run time.
// Score is pure and deterministic (the same text always gets the same score,
// and it is safe for concurrent use), and the score always lies in [-1, 1],
// with a label that follows from it through PositiveThreshold and
// NegativeThreshold.
package sentiment
