// Command bench is `make bench`: it measures how close sdkauth comes to the
// machine's own RSA-2048 limit. It runs, in order and each for a fixed time:
//
//  1. the ceiling, `openssl speed -multi NCPU rsa2048`, and the argon2id
//     rate the password parameters allow on every core;
//  2. the in-process mint rate of each signer (OpenSSL and pure Go) on
//     every core;
//  3. the floor: the same client_credentials load against a bare net/http
//     token server with the same signer and nothing else (floor.go);
//  4. a throwaway Postgres, the Vonage emulator and `sdkauth serve` as
//     separate processes, then over loopback (phases.go): POST /v1/token
//     with the refresh_token grant (each worker follows its own rotation
//     chain) and client_credentials, and the admin list of users (GET
//     /v1/admin/users, page after page), each at full speed (closed loop)
//     and again at 70% of that (open loop, for latency); the password
//     grant at full speed, and a 500-connection login storm for peak
//     memory;
//  5. with -scale (make bench-scale), a fill of the database to a million
//     users, five million sessions and twenty million audit rows, the
//     sweeper's work on the dead part of it, EXPLAIN of the hot queries,
//     and the refresh_token, client_credentials and admin list phases
//     again (scale.go, scalephases.go, explain.go);
//
// and prints, then writes to bench/RESULTS.md (-out), rates, latencies, errors,
// the server's peak RSS and the CPU of the server and of Postgres. It stops
// everything it started on the way out, Ctrl-C included. It asserts nothing
// about timings: it reports them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

type options struct {
	binDir          string
	out             string
	duration        time.Duration
	warmup          time.Duration
	concurrency     int
	pwConcurrency   int
	storm           int
	stormDuration   time.Duration
	speedSeconds    int
	signer          string
	pgFast          bool
	logLevel        string
	openLoopPercent float64
	rounds          int
	serverEnv       envList
	pgSettings      envList
	only            map[string]bool
	scale           scaleSize // zero: no fill (see scale.go)
}

// envList collects repeated -env NAME=VALUE flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not NAME=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// phases lists what -only may name.
var phases = []string{"ceiling", "mint", "floor", "refresh", "cc", "admin-list", "password", "storm"}

// runs reports whether phase is to run.
func (o options) runs(phase string) bool { return len(o.only) == 0 || o.only[phase] }

func main() {
	var o options
	flag.StringVar(&o.binDir, "bin", "bin", "directory holding the sdkauth and vonage-emulator binaries")
	flag.StringVar(&o.out, "out", "bench/RESULTS.md", "where to write the results (empty: only print)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each HTTP phase")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each HTTP phase")
	flag.IntVar(&o.concurrency, "concurrency", 16, "workers (connections) of the refresh_token and client_credentials phases")
	flag.IntVar(&o.pwConcurrency, "password-concurrency", 8, "workers of the password phase")
	flag.IntVar(&o.storm, "storm", 500, "connections of the login storm (0: skip it)")
	flag.DurationVar(&o.stormDuration, "storm-duration", 10*time.Second, "length of the login storm")
	flag.IntVar(&o.speedSeconds, "speed-seconds", 3, "seconds of `openssl speed` signing")
	flag.StringVar(&o.signer, "signer", keys.SignerAuto, "SDKAUTH_SIGNER for the server: auto, openssl or go")
	flag.BoolVar(&o.pgFast, "pg-fast", false, "run Postgres with fsync and synchronous_commit off")
	flag.StringVar(&o.logLevel, "log-level", "info", "SDKAUTH_LOG_LEVEL for the server (info writes one access-log line per request)")
	flag.Float64Var(&o.openLoopPercent, "open-loop-percent", 70, "rate of the latency phases, as a percentage of the measured maximum")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of each closed-loop HTTP phase (floor, refresh_token, client_credentials, admin list); the report keeps the median")
	flag.Var(&o.serverEnv, "env", "extra `NAME=VALUE` for the server's environment (repeatable), e.g. GOGC=200")
	flag.Var(&o.pgSettings, "pg-setting", "extra Postgres server setting `NAME=VALUE` (repeatable), e.g. max_wal_size=8GB")
	flag.BoolVar(&o.scale.on, "scale", false, "after the HTTP phases, fill the database (-scale-users, -scale-sessions, -scale-audit), watch the sweeper, EXPLAIN the hot queries and repeat the refresh, client_credentials and admin list phases (make bench-scale)")
	flag.IntVar(&o.scale.users, "scale-users", 1_000_000, "users -scale adds")
	flag.IntVar(&o.scale.sessions, "scale-sessions", 5_000_000, "sessions -scale adds, with 1 to 3 refresh tokens each (2 on average), 5% of them dead a day or more")
	flag.IntVar(&o.scale.audit, "scale-audit", 20_000_000, "audit rows -scale adds, spread over the retention, 90,000 of them past it")
	only := flag.String("only", "", "run only these phases, comma-separated: "+strings.Join(phases, ","))
	floorAddr := flag.String("serve-floor", "", "internal: serve the floor phase's bare token server on this `host:port` (see floor.go)")
	flag.Parse()
	if *floorAddr != "" {
		err := serveFloor(*floorAddr, o.signer)
		fmt.Fprintln(os.Stderr, "bench: floor server:", err)
		os.Exit(1)
	}
	if o.scale.on && (o.scale.users < 1 || o.scale.sessions < 1 || o.scale.audit <= oldAuditRows) {
		fmt.Fprintf(os.Stderr, "bench: -scale needs at least one user and one session, and more than %d audit rows\n", oldAuditRows)
		os.Exit(2)
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, p := range strings.Split(*only, ",") {
			if !slices.Contains(phases, p) {
				fmt.Fprintf(os.Stderr, "bench: -only: unknown phase %q (want %s)\n", p, strings.Join(phases, ","))
				os.Exit(2)
			}
			o.only[p] = true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runBench(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bencher carries what the phases share.
type bencher struct {
	o     options
	st    *stack
	api   *api
	rep   *report
	nproc int
	work  workload
	// signups is how many users httpPhases signed up (the filled
	// database's phases sign up as many again, see scalePhases).
	signups int
}

func runBench(ctx context.Context, o options) (err error) {
	b := &bencher{o: o, nproc: runtime.NumCPU()}
	b.rep = newReport(o)
	logf("machine: %s, %d CPUs; load average %s", b.rep.Machine.CPU, b.nproc, b.rep.LoadBefore)

	// 1. The ceilings, on an otherwise idle stack (nothing is started yet).
	if o.runs("ceiling") {
		logf("ceiling: openssl speed -seconds %d -multi %d rsa2048 …", o.speedSeconds, b.nproc)
		b.measureCeiling(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		params := auth.OWASPParams
		b.rep.Argon2Params = params
		if b.rep.Argon2Rate, err = argon2Rate(5*time.Second, params); err != nil {
			return err
		}
		logf("argon2id m=%d KiB t=%d p=%d on %d cores: %.1f hashes/s", params.MemoryKiB, params.Iterations, params.Parallelism, b.nproc, b.rep.Argon2Rate)
	} else {
		b.rep.CeilingNote = "not measured (-only)"
	}

	// 2. In-process mint rate of each signer: OpenSSL with two goroutines
	// per core and with the HTTP phases' workers, the pure-Go one with two.
	type mintRun struct {
		mode       string
		goroutines int
	}
	runs := []mintRun{
		{keys.SignerOpenSSL, mintGoroutinesPerCore * b.nproc},
		{keys.SignerOpenSSL, o.concurrency},
		{keys.SignerGo, mintGoroutinesPerCore * b.nproc},
	}
	opensslMissing := false
	for _, run := range runs {
		if !o.runs("mint") {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if run.mode == keys.SignerOpenSSL && opensslMissing {
			continue // reported once
		}
		r, which, err := mintRate(5*time.Second, run.mode, run.goroutines)
		m := mintResult{Mode: run.mode, Which: which, Goroutines: run.goroutines, Rate: r}
		if err != nil {
			m.Note = err.Error()
			logf("mint %-7s unavailable: %v", run.mode, err)
		} else {
			logf("mint %-7s %2d goroutines: %.0f tokens/s (%s)", run.mode, run.goroutines, r, which)
		}
		b.rep.Mint = append(b.rep.Mint, m)
		opensslMissing = opensslMissing || (err != nil && run.mode == keys.SignerOpenSSL)
	}
	if o.runs("mint") && b.rep.Ceiling > 0 {
		// The mint is compared with the ceiling measured around it, since
		// a shared host's speed drifts by a few percent within minutes.
		logf("ceiling again, after the mint …")
		b.measureCeiling(ctx)
		runs := b.rep.CeilingRuns
		for i := range b.rep.Mint {
			b.rep.Mint[i].Ceiling = (runs[0] + runs[len(runs)-1]) / 2
		}
	}

	// 3. The floor: a bare HTTP token server, still without Postgres.
	if o.runs("floor") {
		logf("floor: a bare net/http token server with the %s signer …", o.signer)
		if err := b.floorPhase(ctx); err != nil {
			return err
		}
	}

	// 4. The stack, and the HTTP phases.
	if !o.runs("refresh") && !o.runs("cc") && !o.runs("admin-list") && !o.runs("password") && !o.runs("storm") {
		return b.finish()
	}
	logf("starting Postgres, the Vonage emulator and sdkauth …")
	b.st, err = startStack(ctx, stackOptions{binDir: o.binDir, signer: o.signer, pgFast: o.pgFast, pgSettings: o.pgSettings, logLevel: o.logLevel, extraEnv: o.serverEnv})
	defer func() { b.st.stop() }()
	if err != nil {
		return err
	}
	b.rep.PostgresVersion = b.st.pgVersion
	b.rep.ServerSigner = b.st.signer
	logf("  sdkauth at %s, signer: %s; Postgres %s (pid %d)", b.st.baseURL, b.st.signer, b.st.pgVersion, b.st.postmaster)
	b.api = &api{base: b.st.baseURL, client: newHTTPClient(max(o.concurrency, o.pwConcurrency) + 4)}

	if err := b.httpPhases(ctx); err != nil {
		return err
	}
	if o.scale.on {
		if err := b.scalePhases(ctx); err != nil {
			return err
		}
	}
	b.st.stop()
	if b.rep.Ceiling > 0 {
		// The machine's own speed drifts over a run on a shared host, so
		// the ceiling is measured again once everything has stopped, and
		// the ratios use the mean of the two.
		logf("ceiling again, after the HTTP phases …")
		b.measureCeiling(ctx)
	}
	return b.finish()
}

// measureCeiling runs `openssl speed` and adds its rate to the report.
func (b *bencher) measureCeiling(ctx context.Context) {
	rate, cmdline, err := opensslCeiling(ctx, b.o.speedSeconds, b.nproc)
	b.rep.CeilingCmd = cmdline
	if err != nil {
		if b.rep.Ceiling == 0 {
			b.rep.CeilingNote = err.Error()
		}
		logf("  ceiling unavailable: %v", err)
		return
	}
	b.rep.CeilingRuns = append(b.rep.CeilingRuns, rate)
	sum := 0.0
	for _, r := range b.rep.CeilingRuns {
		sum += r
	}
	b.rep.Ceiling = sum / float64(len(b.rep.CeilingRuns))
	logf("  %.0f signs/s", rate)
}

// finish prints the report and writes it to -out.
func (b *bencher) finish() error {
	o := b.o
	b.rep.LoadAfter = loadAvg()
	b.rep.Finished = time.Now()
	text := b.rep.markdown()
	fmt.Println()
	fmt.Print(text)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return err
		}
		logf("wrote %s", o.out)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
