package users

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
)

// FuzzListCursor: any cursor string is either refused as a validation error
// naming cursor, or decodes to a position List could have made; and every
// cursor List makes decodes back to itself.
func FuzzListCursor(f *testing.F) {
	made := listCursor{CreatedAt: time.Date(2026, 11, 30, 1, 2, 3, 456789000, time.UTC), ID: uuid.MustParse("0b9e8f3c-1d2a-4e5f-8a7b-6c5d4e3f2a1b")}
	f.Add(made.encode(), false)
	f.Add(listCursor{CreatedAt: made.CreatedAt, ID: made.ID, Desc: true}.encode(), true)
	f.Add("", false)
	f.Add("eyJ0IjoiMDAwMS0wMS0wMVQwMDowMDowMFoiLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0", false)
	f.Add("%%%", true)
	f.Fuzz(func(t *testing.T, s string, desc bool) {
		c, err := decodeListCursor(s, desc)
		if err != nil {
			if sdkauth.ErrorCode(err) != sdkauth.CodeValidation {
				t.Fatalf("%q: %v is not a validation error", s, err)
			}
			return
		}
		if c.ID == uuid.Nil || c.Desc != desc || c.CreatedAt.Year() < 1 || c.CreatedAt.Year() > 9999 {
			t.Fatalf("%q decoded to %+v", s, c)
		}
		back, err := decodeListCursor(c.encode(), desc)
		if err != nil || !back.CreatedAt.Equal(c.CreatedAt) || back.ID != c.ID {
			t.Fatalf("%+v does not round-trip: %+v %v", c, back, err)
		}
	})
}
