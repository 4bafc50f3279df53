package cache

// Band is an assessment's name and the smallest hit ratio that earns it.
type Band struct {
	Name string  `json:"name"`
	From float64 `json:"from"`
}

// The assessments of a hit ratio, as Bands names them.
const (
	Excellent = "EXCELLENT"
	Good      = "GOOD"
	Fair      = "FAIR"
	Poor      = "POOR"
)

// Bands grade hit ratios, best first: EXCELLENT from 90 %, GOOD from 80 %,
// FAIR from 70 %, POOR below. Assess, the alerts' ALERT_HIT_RATIO and the
// dashboard's chart all read them here.
var Bands = []Band{
	{Excellent, 0.9},
	{Good, 0.8},
	{Fair, 0.7},
	{Poor, 0},
}

// Assess grades a hit ratio by Bands.
func Assess(hitRatio float64) string {
	for _, b := range Bands {
		if hitRatio >= b.From {
			return b.Name
		}
	}
	return Poor
}

// BandFrom is the smallest hit ratio of the band named name.
func BandFrom(name string) (float64, bool) {
	for _, b := range Bands {
		if b.Name == name {
			return b.From, true
		}
	}
	return 0, false
}

// Ratio is hits over lookups, 0 without lookups.
func Ratio(hits, misses int64) float64 {
	if hits+misses == 0 {
		return 0
	}
	return float64(hits) / float64(hits+misses)
}

// Report is Stats with their ratios and assessment, as people read them:
// the cacheStats query (graph maps it to its model) and the operator's
// dashboard (which sends it as JSON, in the query's field names) both show
// these figures, so that they agree.
type Report struct {
	Backend       string        `json:"backend"`
	Hits          int64         `json:"hits"`
	Misses        int64         `json:"misses"`
	HitRatio      float64       `json:"hitRatio"`
	Assessment    string        `json:"assessment"`
	Keys          int64         `json:"keys"`
	Invalidations int64         `json:"invalidations"`
	Fields        []FieldReport `json:"fields"`
	Redis         *RedisReport  `json:"redis,omitempty"`
	Responses     FieldReport   `json:"responses"`
	WarmReplays   int64         `json:"warmReplays"`
}

// FieldReport is FieldStats with its hit ratio.
type FieldReport struct {
	Coordinate string  `json:"coordinate"`
	Hits       int64   `json:"hits"`
	Misses     int64   `json:"misses"`
	HitRatio   float64 `json:"hitRatio"`
}

// RedisReport is Info as reported.
type RedisReport struct {
	KeyspaceHits     int64 `json:"keyspaceHits"`
	KeyspaceMisses   int64 `json:"keyspaceMisses"`
	UsedMemoryBytes  int64 `json:"usedMemoryBytes"`
	ConnectedClients int64 `json:"connectedClients"`
}

// ReportOf computes the ratios and the assessment of s.
func ReportOf(s Stats) Report {
	r := Report{
		Backend: s.Backend, Hits: s.Hits, Misses: s.Misses, HitRatio: Ratio(s.Hits, s.Misses),
		Keys: s.Keys, Invalidations: s.Invalidations, WarmReplays: s.Replays,
		Fields: make([]FieldReport, len(s.Fields)), Responses: fieldReport(s.Responses),
	}
	r.Assessment = Assess(r.HitRatio)
	for i, f := range s.Fields {
		r.Fields[i] = fieldReport(f)
	}
	if s.Redis != nil {
		r.Redis = &RedisReport{
			KeyspaceHits: s.Redis.KeyspaceHits, KeyspaceMisses: s.Redis.KeyspaceMisses,
			UsedMemoryBytes: s.Redis.UsedMemoryBytes, ConnectedClients: s.Redis.ConnectedClients,
		}
	}
	return r
}

func fieldReport(f FieldStats) FieldReport {
	return FieldReport{Coordinate: f.Coordinate, Hits: f.Hits, Misses: f.Misses, HitRatio: Ratio(f.Hits, f.Misses)}
}
