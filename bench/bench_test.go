package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db/dbtest"
)

func TestParseSpeedSigns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, out string
		want      float64
		wantErr   bool
	}{
		{name: "OpenSSL 3.0 -multi", want: 3639, out: `Forked child 0
Got: +F2:2:2048:1705.333333:29608.333333 from 0
Got: +F2:2:2048:1933.666667:31825.666667 from 1
version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
                  sign    verify    sign/s verify/s
rsa 2048 bits 0.000275s 0.000016s   3639.0  61434.0
`},
		{name: "OpenSSL 3.2+ with encrypt and decrypt columns", want: 1703, out: `version: 3.2.1
                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s
rsa   2048 bits 0.000587s 0.000017s 0.000018s 0.000594s   1703.0  59171.8  55838.3   1683.9
`},
		{name: "other key sizes only", wantErr: true, out: `                  sign    verify    sign/s verify/s
rsa 4096 bits 0.004s 0.0001s   250.0  10000.0
`},
		{name: "no table", wantErr: true, out: "speed: Unknown algorithm rsa2048\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSpeedSigns(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// The command name holds spaces and a parenthesis, as it may.
	stat := "4242 (postgres: a) b) S 4200 4242 4242 0 -1 4194560 1 0 0 0 250 150 30 20 20 0 1 0 9999 1000 10 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	want := procTimes{ppid: 4200, self: 400 / clockTicks, reaped: 50 / clockTicks, startTimeTick: 9999}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := parseProcStat([]byte("12 (x) S 1 2")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0.1: time.Millisecond} {
		if got := percentile(lat, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestErrorKind(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]string{
		&statusError{status: 503, code: "busy"}:    "503 busy",
		&statusError{status: 500}:                  "500",
		errors.New("dial tcp: connection refused"): "connection refused",
	} {
		if got := errorKind(err); got != want {
			t.Errorf("errorKind(%v) = %q, want %q", err, got, want)
		}
	}
	if got := describeErrors(map[string]int{"a": 1, "b": 3}); got != "3× b, 1× a" {
		t.Errorf("describeErrors = %q", got)
	}
}

func TestJSONMember(t *testing.T) {
	t.Parallel()
	body := []byte(`{"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":900,"refresh_token": "r-_1","user":{"id":"x"}}`)
	for name, want := range map[string]string{"access_token": "eyJ.a.b", "refresh_token": "r-_1", "token_type": "Bearer", "expires_in": "", "missing": ""} {
		if got := jsonMember(body, name); got != want {
			t.Errorf("jsonMember(%q) = %q, want %q", name, got, want)
		}
	}
}

// Every query -scale explains is one sqlc generated, found by its name.
func TestHotQueriesAreGenerated(t *testing.T) {
	queries, err := generatedQueries("../db")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range hotQueries {
		sql, ok := queries[q.name]
		if !ok {
			t.Errorf("%s: not in db/*.go", q.name)
			continue
		}
		// The arguments fill the query's parameters exactly.
		s := explainSample{tokenHash: make([][]byte, 6)}
		for n := range 6 {
			args := q.args(s, n)
			if !strings.Contains(sql, fmt.Sprintf("$%d", len(args))) || strings.Contains(sql, fmt.Sprintf("$%d", len(args)+1)) {
				t.Errorf("%s: %d arguments for %s", q.name, len(args), sql)
			}
		}
	}
}

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestLiteral(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "NULL"},
		{"it's", "'it''s'"},
		{[]byte{0xde, 0xad}, `'\xdead'`},
		{at, "'2026-01-02T03:04:05Z'"},
		{true, "true"},
		{21, "21"},
		{2.5, "2.5"},
		{[][]byte{{0xde, 0xad}, {0xbe}}, `ARRAY['\xdead', '\xbe']::bytea[]`},
		{[]string{"a", "it's"}, `ARRAY['a', 'it''s']::text[]`},
	} {
		if got := literal(c.in); got != c.want {
			t.Errorf("literal(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Every hot query the scale bench explains prepares, runs and explains on
// a migrated database with the arguments the bench gives it, so a changed
// query (or parameter list) cannot leave the report with an error.
func TestEveryHotQueryExplains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := dbtest.Conn(t)
	s := explainSample{userID: "00000000-0000-4000-8000-000000000001", username: "a-new-user", clientID: "client",
		cursorAt: time.Now(), cursorID: "00000000-0000-4000-8000-000000000002"}
	for i := range 6 {
		s.tokenHash = append(s.tokenHash, []byte{byte(i), 1, 2, 3})
	}
	plans, err := explainHot(ctx, c, s, "../db")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if p.Err != "" || !strings.Contains(p.Text, "Execution Time") {
			t.Errorf("%s (%s): %s\n%s", p.Query, p.Path, p.Err, p.Text)
		}
		// The rotation finds its tokens through the primary key, even on
		// tables without statistics such as these, where a join from the
		// asked tokens was planned as a walk over every session.
		if p.Query == "RotateFreshRefreshTokens" && (!strings.Contains(p.Text, "Index Cond: (token_hash = ANY") || strings.Contains(p.Text, "Seq Scan")) {
			t.Errorf("the rotation's plan does not find its tokens by primary key alone:\n%s", p.Text)
		}
	}
}
