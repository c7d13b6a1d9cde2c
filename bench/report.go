package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// machine describes where the numbers were taken.
type machine struct {
	CPU, Memory, OS, Kernel, Go, OpenSSL, Commit string
	CPUs, GOMAXPROCS                             int
}

type mintResult struct {
	Mode, Which string
	Goroutines  int
	Rate        float64
	// Ceiling is the mean of the `openssl speed` runs just before and just
	// after the mint; 0 when there were not two.
	Ceiling float64
	Note    string
}

// share is the mint's rate as a share of the ceiling around it, or of the
// run's ceiling without one.
func (m mintResult) share(r *report) float64 {
	if m.Ceiling > 0 {
		return m.Rate / m.Ceiling
	}
	return m.Rate / r.Ceiling
}

type phaseResult struct {
	Name, Grant string
	Concurrency int
	Offered     float64 // requests/s offered by an open-loop phase; 0 = closed loop
	loadResult
	Wall                               time.Duration
	ServerCPU, PostgresCPU, LoadgenCPU float64 // seconds
	PeakRSS                            int64
	RSSReset                           bool      // VmHWM was reset at the start, so PeakRSS is this phase's own
	WAL                                *walStats // written over the phase; nil without Postgres
	// Rounds is every round's rate, in run order, when the phase ran
	// more than once (closedRounds); the rest of the row is the median's.
	Rounds []float64
}

type report struct {
	o                     options
	Machine               machine
	Started, Finished     time.Time
	LoadBefore, LoadAfter string
	Ceiling               float64   // signs/s, the mean of CeilingRuns; 0 = unavailable
	CeilingRuns           []float64 // each `openssl speed` run: before the stack starts, after it stops
	CeilingCmd            string
	CeilingNote           string
	Argon2Params          auth.Argon2Params
	Argon2Rate            float64
	Mint                  []mintResult
	PostgresVersion       string
	ServerSigner          string
	Phases                []phaseResult
	Skipped               []string
	Scale                 *scaleResult // -scale's fill and what it measured; nil without
}

func newReport(o options) *report {
	return &report{o: o, Started: time.Now(), LoadBefore: loadAvg(), Machine: describeMachine()}
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version()}
	m.CPU = firstField("/proc/cpuinfo", "model name", ":")
	if kb := firstField("/proc/meminfo", "MemTotal", ":"); kb != "" {
		var n int64
		fmt.Sscanf(kb, "%d", &n)
		m.Memory = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
	}
	m.OS = strings.Trim(firstField("/etc/os-release", "PRETTY_NAME", "="), `"`)
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("openssl", "version").Output(); err == nil {
		m.OpenSSL = strings.TrimSpace(string(out))
	} else {
		m.OpenSSL = "openssl command not installed"
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.Commit += " (with uncommitted changes)"
		}
	}
	return m
}

// firstField returns the value of the first "key<sep>value" line of a file.
func firstField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r *report) phase(name string) (phaseResult, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return phaseResult{}, false
}

// ratio formats rate as a share of the ceiling.
func (r *report) ratio(rate float64) string {
	if r.Ceiling <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*rate/r.Ceiling)
}

// target is one line of the targets and whether it was met.
type target struct {
	what, measured string
	met            *bool // nil: not measured
}

func yes(b bool) *bool { return &b }

func (r *report) targets() []target {
	var ts []target
	share := func(rate float64) float64 { return rate / r.Ceiling }
	if r.Ceiling <= 0 {
		ts = append(ts, target{"every ratio to the ceiling", "ceiling unavailable: " + r.CeilingNote, nil})
	}
	for _, m := range r.Mint {
		if m.Mode != keys.SignerOpenSSL {
			continue
		}
		t := target{what: fmt.Sprintf("in-process mint (OpenSSL, %d goroutines) ≥ 95%% of the ceiling", m.Goroutines)}
		if m.Note != "" || r.Ceiling <= 0 {
			t.measured = "not measured: " + m.Note
		} else {
			t.measured = fmt.Sprintf("%.0f/s = %.0f%%", m.Rate, 100*m.share(r))
			t.met = yes(m.share(r) >= 0.95)
		}
		ts = append(ts, t)
	}
	floor, hasFloor := r.phase(floorPhaseName)
	t := target{what: "floor (a bare net/http token server, same signer) ≥ 75% of the ceiling", measured: "not measured"}
	if hasFloor && r.Ceiling > 0 {
		t.measured = fmt.Sprintf("%.0f/s = %s", floor.Rate(), r.ratio(floor.Rate()))
		t.met = yes(share(floor.Rate()) >= 0.75)
	}
	ts = append(ts, t)
	grantTarget := func(grant string, want float64) {
		t := target{what: fmt.Sprintf("%s ≥ %.0f%% of the ceiling", grant, want*100)}
		if p, ok := r.phase(grant); !ok {
			t.measured = "not measured"
		} else if r.Ceiling > 0 {
			t.measured = fmt.Sprintf("%.0f/s = %s", p.Rate(), r.ratio(p.Rate()))
			if f, ok := r.phase(floorPhaseName); ok && f.Rate() > 0 {
				// What the target asks of sdkauth, next to what a server
				// with none of its work reached.
				t.measured += fmt.Sprintf(" (the target is %.0f/s, %.0f%% of the floor's %.0f/s)", want*r.Ceiling, 100*want*r.Ceiling/f.Rate(), f.Rate())
			}
			t.met = yes(share(p.Rate()) >= want)
		}
		ts = append(ts, t)
	}
	grantTarget("refresh_token", 0.45)
	grantTarget("client_credentials", 0.5)
	// CPU per token: sdkauth's server at most 0.05 ms above the floor's, and
	// Postgres at most 0.10 ms per refresh.
	perOK := func(cpu float64, p phaseResult) float64 { return 1000 * cpu / float64(p.OK) }
	for _, grant := range []string{"refresh_token", "client_credentials"} {
		t := target{what: fmt.Sprintf("%s: server CPU per token ≤ the floor's + 0.05 ms", grant), measured: "not measured"}
		if p, ok := r.phase(grant); ok && p.OK > 0 && hasFloor && floor.OK > 0 {
			s, f := perOK(p.ServerCPU, p), perOK(floor.ServerCPU, floor)
			t.measured = fmt.Sprintf("%.2f ms against %.2f ms (+%.2f)", s, f, s-f)
			t.met = yes(s-f <= 0.05+0.005) // as printed, to two decimals
		}
		ts = append(ts, t)
	}
	t = target{what: "refresh_token: Postgres CPU per refresh ≤ 0.10 ms", measured: "not measured"}
	if p, ok := r.phase("refresh_token"); ok && p.OK > 0 {
		c := perOK(p.PostgresCPU, p)
		t.measured = fmt.Sprintf("%.2f ms", c)
		t.met = yes(c <= 0.10+0.005)
	}
	ts = append(ts, t)

	errs, measured := 0, 0
	var where []string
	for _, p := range r.Phases {
		if p.Grant == "refresh_token" || p.Grant == "client_credentials" {
			measured++
			errs += p.Failed
			if p.Failed > 0 {
				where = append(where, fmt.Sprintf("%s: %s", p.Name, describeErrors(p.ErrorKinds)))
			}
		}
	}
	if measured > 0 {
		m := "0"
		if errs > 0 {
			m = fmt.Sprintf("%d (%s)", errs, strings.Join(where, "; "))
		}
		ts = append(ts, target{"zero errors (refresh_token, client_credentials)", m, yes(errs == 0)})
	}
	for _, grant := range []string{"refresh_token", "client_credentials"} {
		name := fmt.Sprintf("%s @ %.0f%%", grant, r.o.openLoopPercent)
		t := target{what: fmt.Sprintf("%s p99 ≤ 25 ms at %.0f%% of its maximum rate", grant, r.o.openLoopPercent)}
		if p, ok := r.phase(name); ok {
			t.measured = fmt.Sprintf("p99 %s at %.0f req/s", ms(p.Percentile(99)), p.Offered)
			t.met = yes(p.Failed == 0 && p.Percentile(99) <= 25*time.Millisecond)
		} else {
			t.measured = "not measured"
		}
		ts = append(ts, t)
	}
	t = target{what: "password grant ≥ 90% of the argon2id rate on these cores"}
	if p, ok := r.phase("password"); ok && r.Argon2Rate > 0 {
		t.measured = fmt.Sprintf("%.1f/s of %.1f/s = %.0f%%", p.Rate(), r.Argon2Rate, 100*p.Rate()/r.Argon2Rate)
		t.met = yes(p.Rate() >= 0.9*r.Argon2Rate)
	} else {
		t.measured = "not measured"
	}
	ts = append(ts, t)
	t = target{what: fmt.Sprintf("peak RSS < 300 MiB in a %d-connection login storm", r.o.storm)}
	if p, ok := r.phase("login storm"); ok {
		t.measured = fmt.Sprintf("%.0f MiB", float64(p.PeakRSS)/(1<<20))
		t.met = yes(p.PeakRSS < 300<<20)
	} else {
		t.measured = "not measured"
	}
	ts = append(ts, t)
	return ts
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	w("# sdkauth benchmark results\n\n")
	w("Written by `make bench` (bench/main.go) on %s, in %s. Timings are reported, never asserted.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second))
	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	w("| CPU | %s, %d CPUs (GOMAXPROCS %d) |\n", m.CPU, m.CPUs, m.GOMAXPROCS)
	w("| memory | %s |\n", m.Memory)
	w("| OS | %s, Linux %s |\n", m.OS, m.Kernel)
	w("| Go | %s |\n", m.Go)
	w("| OpenSSL | %s |\n", m.OpenSSL)
	w("| PostgreSQL | %s, same machine, %s |\n", r.PostgresVersion, map[bool]string{true: "fsync and synchronous_commit off (-pg-fast)", false: "default durability (fsync on, synchronous_commit on)"}[r.o.pgFast])
	w("| sdkauth signer | %s |\n", r.ServerSigner)
	if m.Commit != "" {
		w("| commit | %s |\n", m.Commit)
	}
	w("| load average (1, 5, 15 min) | %s before, %s after |\n\n", r.LoadBefore, r.LoadAfter)
	w("Everything shares the same %d CPUs: sdkauth, Postgres, the emulator and the load generator.\n\n", m.CPUs)

	w("## Ceilings\n\n")
	if r.Ceiling > 0 {
		runs := make([]string, len(r.CeilingRuns))
		for i, c := range r.CeilingRuns {
			runs[i] = fmt.Sprintf("%.0f", c)
		}
		w("- **RSA-2048 signing: %.0f signs/s** — `%s`, the machine's own limit; every rate below is also given as a share of it. It is the mean of the runs before the in-process mint, after it (when it ran) and after the stack stopped (%s signs/s), since a shared host's speed drifts during a run; the mint is compared with the two runs around it.\n", r.Ceiling, r.CeilingCmd, strings.Join(runs, ", "))
	} else {
		w("- RSA-2048 signing: unavailable (%s); ratios are not computed.\n", r.CeilingNote)
	}
	p := r.Argon2Params
	w("- **argon2id (m=%d KiB, t=%d, p=%d): %.1f hashes/s** on %d goroutines — the most password grants these cores allow.\n\n",
		p.MemoryKiB, p.Iterations, p.Parallelism, r.Argon2Rate, m.GOMAXPROCS)

	w("## In-process mint rate\n\n")
	w("`keys.Minter.UserToken` (claims, ACL check, jti, signature) with the default Client SDK ACL, GOMAXPROCS %d, for 5 s a row: OpenSSL with %d goroutines (two per core) and with %d (as many as the HTTP phases' workers), crypto/rsa with %d; see `mintGoroutinesPerCore` in bench/ceiling.go. \"Of ceiling\" is against the mean of the `openssl speed` runs just before and just after the mint.\n\n",
		m.GOMAXPROCS, mintGoroutinesPerCore*m.GOMAXPROCS, r.o.concurrency, mintGoroutinesPerCore*m.GOMAXPROCS)
	w("| signer | goroutines | tokens/s | of ceiling |\n|---|---:|---:|---:|\n")
	for _, mr := range r.Mint {
		if mr.Note != "" {
			w("| %s | %d | unavailable: %s | |\n", mr.Mode, mr.Goroutines, mr.Note)
			continue
		}
		ratio := "n/a"
		if r.Ceiling > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*mr.share(r))
		}
		w("| %s | %d | %.0f | %s |\n", mr.Which, mr.Goroutines, mr.Rate, ratio)
	}
	w("\n## POST /v1/token over loopback\n\n")
	w("Form-encoded requests, keep-alive connections (one per worker). Closed-loop phases run as fast as the server answers, after a %s warm-up, %d rounds back to back: the row is the round with the median rate, and the brackets give every round's rate in run order; open-loop phases (@ %.0f%%) offer a fixed rate and count latency from when each request was due. CPU is in seconds over the phase (wall time in brackets); Postgres is the postmaster and all its backends. Peak RSS is the server's VmHWM, reset at the start of each phase.\n\n",
		r.o.warmup, max(r.o.rounds, 1), r.o.openLoopPercent)
	floor, hasFloor := r.phase(floorPhaseName)
	if hasFloor {
		w("The server is sdkauth in every row but the floor's. The floor's server is the bench binary run as a bare token server (bench/floor.go): it mints the same admin token as client_credentials with the same signer, but with net/http alone, with no router, database, client authentication, logs or metrics. It shows how much of the ceiling HTTP over loopback, Go's runtime and the kernel leave a Go token server on these cores; \"of floor\" gives each rate as a share of it.\n\n")
	}
	w("| phase | workers | req/s | of ceiling | of floor | p50 | p95 | p99 | max | errors | CPU server | CPU Postgres | CPU load gen | peak RSS |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, ph := range r.Phases {
		errs := "0"
		if ph.Failed > 0 {
			errs = fmt.Sprintf("%d: %s", ph.Failed, describeErrors(ph.ErrorKinds))
		}
		rate := fmt.Sprintf("%.0f", ph.Rate())
		if ph.Offered > 0 {
			rate = fmt.Sprintf("%.0f (offered %.0f)", ph.Rate(), ph.Offered)
		}
		if len(ph.Rounds) > 1 {
			rounds := make([]string, len(ph.Rounds))
			for i, x := range ph.Rounds {
				rounds[i] = fmt.Sprintf("%.0f", x)
			}
			rate += " (" + strings.Join(rounds, ", ") + ")"
		}
		ratio, ofFloor := r.ratio(ph.Rate()), "n/a"
		if hasFloor && floor.Rate() > 0 {
			ofFloor = fmt.Sprintf("%.0f%%", 100*ph.Rate()/floor.Rate())
		}
		if ph.Grant == "password" {
			ratio, ofFloor = "—", "—"
		}
		var max time.Duration
		if n := len(ph.Latencies); n > 0 {
			max = ph.Latencies[n-1]
		}
		w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %.1f s (%.0f%%) | %.1f s (%.0f%%) | %.1f s (%.0f%%) | %.0f MiB |\n",
			ph.Name, ph.Concurrency, rate, ratio, ofFloor, ms(ph.Percentile(50)), ms(ph.Percentile(95)), ms(ph.Percentile(99)), ms(max), errs,
			ph.ServerCPU, pct(ph.ServerCPU, ph.Wall), ph.PostgresCPU, pct(ph.PostgresCPU, ph.Wall), ph.LoadgenCPU, pct(ph.LoadgenCPU, ph.Wall),
			float64(ph.PeakRSS)/(1<<20))
	}
	w("\nCPU percentages are of one core over the phase's wall time; %d cores make %d%%.\n", m.CPUs, 100*m.CPUs)
	w("\nCPU per successful request (ms), the measure least disturbed by other load on the machine; RSA-2048 signing alone costs about %s of it.\n\n", signCost(r.Ceiling, m.CPUs))
	w("The WAL columns are what Postgres wrote to its write-ahead log over the phase (pg_stat_wal, every session's) per successful request: bytes, and full-page images, which Postgres writes for the first change to each page after a checkpoint.\n\n")
	w("| phase | server | Postgres | load generator | total | WAL per request | full-page images per request |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, ph := range r.Phases {
		if ph.OK == 0 || ph.Offered > 0 {
			continue
		}
		per := func(cpu float64) float64 { return 1000 * cpu / float64(ph.OK) }
		wal, fpi := "—", "—"
		if ph.WAL != nil {
			wal, fpi = fmt.Sprintf("%.0f B", float64(ph.WAL.Bytes)/float64(ph.OK)), fmt.Sprintf("%.2f", float64(ph.WAL.FPI)/float64(ph.OK))
		}
		w("| %s | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", ph.Name, per(ph.ServerCPU), per(ph.PostgresCPU), per(ph.LoadgenCPU),
			per(ph.ServerCPU+ph.PostgresCPU+ph.LoadgenCPU), wal, fpi)
	}
	for _, s := range r.Skipped {
		w("\nSkipped: %s\n", s)
	}
	w("\n## Targets (issue 16)\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range r.targets() {
		met := "—"
		if t.met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*t.met]
		}
		w("| %s | %s | %s |\n", t.what, t.measured, met)
	}
	if r.Scale != nil {
		r.scaleMarkdown(w)
	}
	w("\nReproduce: `make bench` (flags: `go run ./bench -h`).\n")
	return b.String()
}

// signCost is the CPU one signature takes at the ceiling's rate.
func signCost(ceiling float64, cpus int) string {
	if ceiling <= 0 {
		return "(unknown: no ceiling)"
	}
	return fmt.Sprintf("%.2f ms", 1000*float64(cpus)/ceiling)
}

// pct is cpu seconds as a percentage of one core over wall.
func pct(cpu float64, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * cpu / wall.Seconds()
}
