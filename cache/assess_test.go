package cache

import "testing"

func TestAssess(t *testing.T) {
	for ratio, want := range map[float64]string{1: Excellent, 0.9: Excellent, 0.89: Good, 0.8: Good, 0.7: Fair, 0.69: Poor, 0: Poor} {
		if got := Assess(ratio); got != want {
			t.Errorf("Assess(%v) = %s, want %s", ratio, got, want)
		}
	}
}

func TestReportOf(t *testing.T) {
	r := ReportOf(Stats{Backend: "MEMORY", Hits: 3, Misses: 1, Responses: FieldStats{Coordinate: "response", Hits: 1}})
	if r.HitRatio != 0.75 || r.Assessment != Fair || r.Responses.HitRatio != 1 || r.Fields == nil || r.Redis != nil {
		t.Errorf("%+v", r)
	}
	if r := ReportOf(Stats{}); r.HitRatio != 0 || r.Assessment != Poor {
		t.Errorf("no lookups: %+v", r)
	}
}
