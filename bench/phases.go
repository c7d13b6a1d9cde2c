package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// workload is what the token phases keep between the empty and the filled
// database (-scale): each refresh worker's rotation chain and the service
// clients.
type workload struct {
	chains             []string
	pwUsers            []string
	ccID, ccSecret     string // "" when client_credentials is skipped
	adminID, adminPass string // "" when the admin list is skipped
}

// httpPhases signs the bench's users up and runs every HTTP phase -only
// selects against the stack.
func (b *bencher) httpPhases(ctx context.Context) error {
	o := b.o
	// Users: one rotation chain per refresh worker, a few password users,
	// and, for the admin list, enough more that every page is full.
	extra := 0
	if o.runs("admin-list") {
		extra = (listPageSize - (o.concurrency+o.pwConcurrency)%listPageSize) % listPageSize
	}
	b.signups = o.concurrency + o.pwConcurrency + extra
	logf("signing up %d users …", b.signups)
	w := &b.work
	w.chains = make([]string, o.concurrency)
	for i := range w.chains {
		tok, err := b.api.signup(ctx, fmt.Sprintf("bench-refresh-%03d", i), benchPassword(i))
		if err != nil {
			return err
		}
		w.chains[i] = tok
	}
	w.pwUsers = make([]string, o.pwConcurrency)
	for i := range w.pwUsers {
		w.pwUsers[i] = fmt.Sprintf("bench-login-%03d", i)
		if _, err := b.api.signup(ctx, w.pwUsers[i], benchPassword(1000+i)); err != nil {
			return err
		}
	}
	if err := b.signupMany(ctx, "bench-list", extra, 2000); err != nil {
		return err
	}
	if o.runs("cc") {
		w.ccID, w.ccSecret = b.serviceClient(ctx, "client_credentials", "tokens:admin")
	}
	if o.runs("admin-list") {
		w.adminID, w.adminPass = b.serviceClient(ctx, "admin list", "admin")
	}
	if err := b.tokenPhases(ctx, ""); err != nil {
		return err
	}

	pwUsers := w.pwUsers
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

// tokenPhases runs the refresh_token, client_credentials and admin list
// phases that -only selects. suffix names the state of the database (""
// for the nearly empty one, " (filled)" after -scale's fill); the refresh
// workers continue their chains from the phases before.
func (b *bencher) tokenPhases(ctx context.Context, suffix string) error {
	o, w := b.o, &b.work
	if o.runs("refresh") {
		refresh := func(i int) (call, error) { return refreshWorker(b.api, &w.chains[i]), nil }
		if err := b.closedAndOpen(ctx, "refresh_token", suffix, refresh, o.concurrency); err != nil {
			return err
		}
	}
	if o.runs("cc") && w.ccID != "" {
		cc := func(int) (call, error) { return clientCredentialsWorker(b.api, w.ccID, w.ccSecret), nil }
		if err := b.closedAndOpen(ctx, "client_credentials", suffix, cc, o.concurrency); err != nil {
			return err
		}
	}
	if o.runs("admin-list") && w.adminID != "" {
		// Half the workers page oldest first, half newest first.
		list := func(i int) (call, error) { return adminListWorker(b.api, w.adminID, w.adminPass, i%2 == 1), nil }
		if err := b.closedAndOpen(ctx, adminListGrant, suffix, list, o.concurrency); err != nil {
			return err
		}
	}
	return nil
}

// closedAndOpen measures a grant at full speed, then at a fixed share of
// that rate for its latency. With a suffix (the filled database), the open
// loop offers the same rate as the phase without one, so that their
// latencies compare.
func (b *bencher) closedAndOpen(ctx context.Context, grant, suffix string, w func(int) (call, error), conc int) error {
	res, err := b.closedRounds(ctx, b.st.procs(), grant+suffix, grant, loadSpec{concurrency: conc, duration: b.o.duration, newWorker: w})
	if err != nil {
		return err
	}
	open := fmt.Sprintf("%s @ %.0f%%", grant, b.o.openLoopPercent)
	target := res.Rate() * b.o.openLoopPercent / 100
	if base, ok := b.rep.phase(open); ok && suffix != "" {
		target = base.Offered
	}
	if target <= 0 {
		return nil
	}
	_, err = b.phase(ctx, b.st.procs(), open+suffix, grant, loadSpec{concurrency: conc, duration: b.o.duration, rate: target, newWorker: w}, false)
	return err
}

// signupMany signs up n users named prefix-000 on, whose passwords are
// benchPassword(first+i), for the rows and the server's state they leave.
func (b *bencher) signupMany(ctx context.Context, prefix string, n, first int) error {
	for i := range n {
		if _, err := b.api.signup(ctx, fmt.Sprintf("%s-%03d", prefix, i), benchPassword(first+i)); err != nil {
			return err
		}
	}
	return nil
}

// closedRounds runs a closed-loop phase -rounds times back to back (the
// warm-up only before the first) and reports the round with the median
// rate, with every round's rate beside it: on a shared host one 10-second
// phase can land 5–10% away from the next, and the median keeps one
// unlucky round from deciding a target.
func (b *bencher) closedRounds(ctx context.Context, pr procs, name, grant string, spec loadSpec) (phaseResult, error) {
	var rounds []phaseResult
	for i := range max(b.o.rounds, 1) {
		p, err := b.measure(ctx, pr, name, grant, spec, i == 0)
		if err != nil {
			return p, err
		}
		rounds = append(rounds, p)
	}
	rates := make([]float64, len(rounds))
	for i, r := range rounds {
		rates[i] = r.Rate()
	}
	byRate := slices.Clone(rounds)
	slices.SortFunc(byRate, func(x, y phaseResult) int { return cmp.Compare(x.Rate(), y.Rate()) })
	med := byRate[len(byRate)/2]
	if len(rounds) > 1 {
		med.Rounds = rates
		logf("  %s: median of %d rounds %.0f req/s", name, len(rounds), med.Rate())
	}
	b.rep.Phases = append(b.rep.Phases, med)
	return med, nil
}

// procs are the processes a phase measures: a server, and Postgres when
// there is one.
type procs struct {
	srv        *exec.Cmd
	postmaster int       // 0: no Postgres
	pg         *pgx.Conn // Postgres, for its WAL statistics; nil without
	log        string    // the server's log, quoted when it exits
}

func (s *stack) procs() procs {
	return procs{srv: s.srv, postmaster: s.postmaster, pg: s.pgStats, log: filepath.Join(s.dir, "sdkauth.log")}
}

// walStats is what Postgres has written to its WAL since its statistics
// were reset: bytes, and full-page images (pg_stat_wal). Every phase
// counts the other sessions' WAL too (the sweeper's, autovacuum's), as
// production would.
type walStats struct{ Bytes, FPI int64 }

// wal reads pg_stat_wal; nil without Postgres.
func (p procs) wal(ctx context.Context) (*walStats, error) {
	if p.pg == nil {
		return nil, nil
	}
	var w walStats
	err := p.pg.QueryRow(ctx, "SELECT wal_bytes::bigint, wal_fpi FROM pg_stat_wal").Scan(&w.Bytes, &w.FPI)
	return &w, err
}

// postgresCPU is the CPU seconds of the postmaster and its backends so far.
func (p procs) postgresCPU() float64 {
	if p.postmaster == 0 {
		return 0
	}
	return treeCPUSeconds(p.postmaster)
}

// phase runs one load phase (after an unmeasured warm-up when asked) and
// records it in the report.
func (b *bencher) phase(ctx context.Context, pr procs, name, grant string, spec loadSpec, warm bool) (phaseResult, error) {
	p, err := b.measure(ctx, pr, name, grant, spec, warm)
	if err == nil {
		b.rep.Phases = append(b.rep.Phases, p)
	}
	return p, err
}

// measure runs one load phase (after an unmeasured warm-up when asked) and
// returns it with the server's peak RSS and the CPU of each process.
func (b *bencher) measure(ctx context.Context, pr procs, name, grant string, spec loadSpec, warm bool) (phaseResult, error) {
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
	wal0, err := pr.wal(ctx)
	if err != nil {
		return phaseResult{}, fmt.Errorf("%s: reading pg_stat_wal: %w", name, err)
	}
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
	wal1, err := pr.wal(ctx)
	if err != nil {
		return p, fmt.Errorf("%s: reading pg_stat_wal: %w", name, err)
	}
	if wal1 != nil {
		p.WAL = &walStats{Bytes: wal1.Bytes - wal0.Bytes, FPI: wal1.FPI - wal0.FPI}
	}
	logf("  %.0f req/s, p50 %s p95 %s p99 %s, %d errors%s; CPU server %.1f s, Postgres %.1f s, load generator %.1f s; peak RSS %d MiB",
		p.Rate(), ms(p.Percentile(50)), ms(p.Percentile(95)), ms(p.Percentile(99)), p.Failed,
		map[bool]string{true: " (" + describeErrors(p.ErrorKinds) + ")", false: ""}[p.Failed > 0],
		p.ServerCPU, p.PostgresCPU, p.LoadgenCPU, p.PeakRSS>>20)
	return p, nil
}

// serviceClient creates a service client with scopes with the sdkauth CLI
// for phase. When it cannot, it records why the phase is skipped and
// returns an empty id.
func (b *bencher) serviceClient(ctx context.Context, phase, scopes string) (id, secret string) {
	id, secret, note := b.createClient(ctx, scopes)
	if note != "" {
		b.rep.Skipped = append(b.rep.Skipped, phase+": "+note)
		logf("%s skipped: %s", phase, note)
	}
	return id, secret
}

func (b *bencher) createClient(ctx context.Context, scopes string) (id, secret, note string) {
	out, err := b.st.sdkauth(ctx, filepath.Join(b.o.binDir, "sdkauth"), "clients", "create", "--name", "bench", "--scopes", scopes, "--output", "json")
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
