package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkImport posts imports to sdkauth as serve wires it, over
// loopback, with the production argon2id parameters and the provisioning
// worker running, and reports lines a second. Each import names new users,
// so every line is created.
//
//	go test -run '^$' -bench Import -benchtime 3x ./api/
//
// hashes-10000 is 10,000 users with existing bcrypt hashes: the import's own
// cost (decoding, checks, batched writes of users, jobs and audit rows).
// passwords-1000 is 1,000 users with clear-text passwords, each hashed with
// argon2id on import (m=19 MiB, t=2), which is most of what such an import
// costs; its time grows linearly with the lines.
func BenchmarkImport(b *testing.B) {
	s := newStack(b, map[string]string{"SDKAUTH_ARGON2_MEMORY_KIB": "19456", "SDKAUTH_ARGON2_ITERATIONS": "2"})
	admin := s.AdminAuth("admin")
	hash := bcryptHash(b, "an imported password")
	run := func(b *testing.B, lines int, line func(name string) string) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			var file strings.Builder
			for n := range lines {
				file.WriteString(line(fmt.Sprintf("%s-%d-%05d", strings.SplitN(b.Name(), "/", 2)[1], i, n)) + "\n")
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/users/import", strings.NewReader(file.String()))
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Authorization", admin)
			b.StartTimer()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got := decodeImport(b, body); res.StatusCode != http.StatusOK || got.Created != lines {
				b.Fatalf("%d: created %d of %d: %.300s", res.StatusCode, got.Created, lines, body)
			}
		}
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	}
	b.Run("hashes-10000", func(b *testing.B) {
		run(b, 10_000, func(name string) string {
			return fmt.Sprintf(`{"username":%q,"password_hash":%q,"display_name":"Imported User"}`, name, hash)
		})
	})
	b.Run("passwords-1000", func(b *testing.B) {
		run(b, 1_000, func(name string) string {
			return fmt.Sprintf(`{"username":%q,"password":"a clear-text password of %s"}`, name, name)
		})
	})
}
