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
//     separate processes, then POST /v1/token over loopback: the
//     refresh_token grant (each worker follows its own rotation chain),
//     client_credentials and password, each at full speed (closed loop)
//     and the first two again at 70% of that (open loop, for latency), and
//     a 500-connection login storm for peak memory;
//
// and prints, then writes to bench/RESULTS.md, rates, latencies, errors,
// the server's peak RSS and the CPU of the server and of Postgres. It stops
// everything it started on the way out, Ctrl-C included. It asserts nothing
// about timings: it reports them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
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
	serverEnv       envList
	only            map[string]bool
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
var phases = []string{"ceiling", "mint", "floor", "refresh", "cc", "password", "storm"}

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
	flag.Var(&o.serverEnv, "env", "extra `NAME=VALUE` for the server's environment (repeatable), e.g. GOGC=200")
	only := flag.String("only", "", "run only these phases, comma-separated: "+strings.Join(phases, ","))
	floorAddr := flag.String("serve-floor", "", "internal: serve the floor phase's bare token server on this `host:port` (see floor.go)")
	flag.Parse()
	if *floorAddr != "" {
		err := serveFloor(*floorAddr, o.signer)
		fmt.Fprintln(os.Stderr, "bench: floor server:", err)
		os.Exit(1)
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

	// 2. In-process mint rate of each signer.
	for _, mode := range []string{keys.SignerOpenSSL, keys.SignerGo} {
		if !o.runs("mint") {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r, which, err := mintRate(5*time.Second, mode)
		m := mintResult{Mode: mode, Which: which, Rate: r}
		if err != nil {
			m.Note = err.Error()
			logf("mint %-7s unavailable: %v", mode, err)
		} else {
			logf("mint %-7s %.0f tokens/s (%s)", mode, r, which)
		}
		b.rep.Mint = append(b.rep.Mint, m)
	}

	// 3. The floor: a bare HTTP token server, still without Postgres.
	if o.runs("floor") {
		logf("floor: a bare net/http token server with the %s signer …", o.signer)
		if err := b.floorPhase(ctx); err != nil {
			return err
		}
	}

	// 4. The stack, and the HTTP phases.
	if !o.runs("refresh") && !o.runs("cc") && !o.runs("password") && !o.runs("storm") {
		return b.finish()
	}
	logf("starting Postgres, the Vonage emulator and sdkauth …")
	b.st, err = startStack(ctx, stackOptions{binDir: o.binDir, signer: o.signer, pgFast: o.pgFast, logLevel: o.logLevel, extraEnv: o.serverEnv})
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

func (b *bencher) httpPhases(ctx context.Context) error {
	o := b.o
	// Users: one rotation chain per refresh worker, a few password users.
	logf("signing up %d users …", o.concurrency+o.pwConcurrency)
	chains := make([]string, o.concurrency)
	for i := range chains {
		tok, err := b.api.signup(ctx, fmt.Sprintf("bench-refresh-%03d", i), benchPassword(i))
		if err != nil {
			return err
		}
		chains[i] = tok
	}
	pwUsers := make([]string, o.pwConcurrency)
	for i := range pwUsers {
		pwUsers[i] = fmt.Sprintf("bench-login-%03d", i)
		if _, err := b.api.signup(ctx, pwUsers[i], benchPassword(1000+i)); err != nil {
			return err
		}
	}
	refresh := func(i int) (call, error) { return refreshWorker(b.api, &chains[i]), nil }
	if o.runs("refresh") {
		if err := b.closedAndOpen(ctx, "refresh_token", refresh, b.o.concurrency); err != nil {
			return err
		}
	}

	if !o.runs("cc") {
		// skipped by -only
	} else if id, secret, note := b.serviceClient(ctx); note != "" {
		b.rep.Skipped = append(b.rep.Skipped, "client_credentials: "+note)
		logf("client_credentials skipped: %s", note)
	} else {
		cc := func(int) (call, error) { return clientCredentialsWorker(b.api, id, secret), nil }
		if err := b.closedAndOpen(ctx, "client_credentials", cc, b.o.concurrency); err != nil {
			return err
		}
	}

	pw := func(i int) (call, error) {
		return passwordWorker(b.api, pwUsers[i%len(pwUsers)], benchPassword(1000+i%len(pwUsers))), nil
	}
	if o.runs("password") {
		if _, err := b.phase(ctx, b.st.procs(), "password", "password", loadSpec{concurrency: o.pwConcurrency, duration: o.duration, newWorker: pw}, true); err != nil {
			return err
		}
	}

	if o.storm > 0 && o.runs("storm") {
		stormAPI := &api{base: b.st.baseURL, client: newHTTPClient(o.storm)}
		storm := func(i int) (call, error) {
			return passwordWorker(stormAPI, pwUsers[i%len(pwUsers)], benchPassword(1000+i%len(pwUsers))), nil
		}
		if _, err := b.phase(ctx, b.st.procs(), "login storm", "password", loadSpec{concurrency: o.storm, duration: o.stormDuration, newWorker: storm}, false); err != nil {
			return err
		}
		stormAPI.client.CloseIdleConnections()
	}
	return nil
}

// closedAndOpen measures a grant at full speed, then at a fixed share of
// that rate for its latency.
func (b *bencher) closedAndOpen(ctx context.Context, grant string, w func(int) (call, error), conc int) error {
	res, err := b.phase(ctx, b.st.procs(), grant, grant, loadSpec{concurrency: conc, duration: b.o.duration, newWorker: w}, true)
	if err != nil {
		return err
	}
	target := res.Rate() * b.o.openLoopPercent / 100
	if target <= 0 {
		return nil
	}
	name := fmt.Sprintf("%s @ %.0f%%", grant, b.o.openLoopPercent)
	_, err = b.phase(ctx, b.st.procs(), name, grant, loadSpec{concurrency: conc, duration: b.o.duration, rate: target, newWorker: w}, false)
	return err
}

// procs are the processes a phase measures: a server, and Postgres when
// there is one.
type procs struct {
	srv        *exec.Cmd
	postmaster int    // 0: no Postgres
	log        string // the server's log, quoted when it exits
}

func (s *stack) procs() procs {
	return procs{srv: s.srv, postmaster: s.postmaster, log: filepath.Join(s.dir, "sdkauth.log")}
}

// postgresCPU is the CPU seconds of the postmaster and its backends so far.
func (p procs) postgresCPU() float64 {
	if p.postmaster == 0 {
		return 0
	}
	return treeCPUSeconds(p.postmaster)
}

// phase runs one load phase (after an unmeasured warm-up when asked) and
// records it with the server's peak RSS and the CPU of each process.
func (b *bencher) phase(ctx context.Context, pr procs, name, grant string, spec loadSpec, warm bool) (phaseResult, error) {
	spec.name = name
	if warm && b.o.warmup > 0 {
		w := spec
		w.duration, w.rate = b.o.warmup, 0
		if _, err := run(ctx, w); err != nil {
			return phaseResult{}, err
		}
	}
	logf("%s: %d workers, %s%s …", name, spec.concurrency, spec.duration, map[bool]string{true: fmt.Sprintf(", %.0f req/s offered", spec.rate), false: ""}[spec.rate > 0])
	srvPID := pr.srv.Process.Pid
	rss := watchRSS(srvPID)
	srv0, pg0, self0 := cpuSeconds(srvPID), pr.postgresCPU(), cpuSeconds(os.Getpid())
	start := time.Now()
	res, err := run(ctx, spec)
	wall := time.Since(start)
	p := phaseResult{
		Name: name, Grant: grant, Concurrency: spec.concurrency, Offered: spec.rate,
		loadResult:  res,
		Wall:        wall,
		ServerCPU:   cpuSeconds(srvPID) - srv0,
		PostgresCPU: pr.postgresCPU() - pg0,
		LoadgenCPU:  cpuSeconds(os.Getpid()) - self0,
		PeakRSS:     rss.Peak(),
		RSSReset:    rss.reset,
	}
	if err != nil {
		return p, err
	}
	if exited(pr.srv) {
		return p, fmt.Errorf("%s: the server exited: %s", name, tail(pr.log))
	}
	b.rep.Phases = append(b.rep.Phases, p)
	logf("  %.0f req/s, p50 %s p95 %s p99 %s, %d errors%s; CPU server %.1f s, Postgres %.1f s, load generator %.1f s; peak RSS %d MiB",
		p.Rate(), ms(p.Percentile(50)), ms(p.Percentile(95)), ms(p.Percentile(99)), p.Failed,
		map[bool]string{true: " (" + describeErrors(p.ErrorKinds) + ")", false: ""}[p.Failed > 0],
		p.ServerCPU, p.PostgresCPU, p.LoadgenCPU, p.PeakRSS>>20)
	return p, nil
}

// serviceClient creates a service client with the tokens:admin scope with
// the sdkauth CLI. note says why the phase is skipped when it cannot.
func (b *bencher) serviceClient(ctx context.Context) (id, secret, note string) {
	out, err := b.st.sdkauth(ctx, filepath.Join(b.o.binDir, "sdkauth"), "clients", "create", "--name", "bench", "--scopes", "tokens:admin", "--output", "json")
	if err != nil {
		return "", "", fmt.Sprintf("`sdkauth clients create` failed: %v: %s", err, strings.TrimSpace(string(out)))
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" || c.Secret == "" {
		return "", "", fmt.Sprintf("`sdkauth clients create --output json` printed no client_id/client_secret: %s", strings.TrimSpace(string(out)))
	}
	return c.ID, c.Secret, ""
}

// benchPassword is a password the sign-up rules accept, distinct per user.
func benchPassword(i int) string { return fmt.Sprintf("bench-%04d-correct-horse-battery", i) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
