package db_test

import (
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
)

// IsAnalyticsTag knows exactly the tags the analytics constructors make.
func TestIsAnalyticsTag(t *testing.T) {
	for tag, want := range map[string]bool{
		db.TagAnalytics:                   true,
		db.DestinationAnalyticsTag(7):     true,
		db.CityAnalyticsTag("Alor Setar"): true,
		db.DestinationTag(7):              false,
		db.DestinationPropertiesTag(7):    false,
		db.CityPropertiesTag("Langkawi"):  false,
		db.TagDestinations:                false,
		db.TagAll:                         false,
	} {
		if got := db.IsAnalyticsTag(tag); got != want {
			t.Errorf("IsAnalyticsTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
