package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// scaleResult is what -scale measured besides the phases.
type scaleResult struct {
	Size                        scaleSize
	Fill                        []fillStep
	FillTook                    time.Duration
	Empty, Filled, Swept, After []tableSize // After: once the filled phases ran
	DeadBefore, DeadAfter       deadRows
	SweepTook                   time.Duration // from sdkauth's start to no dead rows left
	SweepNote                   string
	VacuumTook                  time.Duration
	EmptyPlans, FilledPlans     []plan
}

// tableSize is one table's rows and on-disk size.
type tableSize struct {
	Table          string
	Rows           int64
	Heap, Indexes  int64 // bytes: pg_relation_size, pg_indexes_size
	IndexesBreakup string
	Updates, HOT   int64 // n_tup_upd and n_tup_hot_upd so far
}

// deadRows are the rows a sweep should delete.
type deadRows struct{ Sessions, Audit int64 }

const filledSuffix = " (filled)"

// scalePhases fills the database, checks that the sweeper deletes what
// has died, explains the hot queries before and after, and repeats the
// token and admin list phases on the filled database.
func (b *bencher) scalePhases(ctx context.Context) error {
	sc := &scaleResult{Size: b.o.scale}
	b.rep.Scale = sc
	c, err := pgx.Connect(ctx, b.st.pg.URL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())

	logf("scale: table sizes and EXPLAIN of the hot queries on the nearly empty database …")
	if sc.Empty, err = tableSizes(ctx, c); err != nil {
		return err
	}
	if sc.EmptyPlans, err = explainAt(ctx, c); err != nil {
		return err
	}

	logf("scale: stopping sdkauth and filling the database with %d users, %d sessions, %d audit rows …", sc.Size.users, sc.Size.sessions, sc.Size.audit)
	b.st.stopServer()
	start := time.Now()
	sc.Fill, err = fill(ctx, b.st.pg.URL, sc.Size)
	sc.FillTook = time.Since(start)
	if err != nil {
		return fmt.Errorf("filling the database: %w", err)
	}
	logf("  the fill took %s", sc.FillTook.Round(time.Second))
	if sc.Filled, err = tableSizes(ctx, c); err != nil {
		return err
	}
	if sc.DeadBefore, err = countDead(ctx, c); err != nil {
		return err
	}

	// sdkauth sweeps a minute after it starts, then every minute.
	logf("scale: starting sdkauth again and waiting for its sweeper (%d dead sessions, %d audit rows past the retention) …", sc.DeadBefore.Sessions, sc.DeadBefore.Audit)
	start = time.Now()
	if err := b.st.startServer(ctx); err != nil {
		return err
	}
	b.api.client.CloseIdleConnections()
	for last := sc.DeadBefore; ; last = sc.DeadAfter {
		if sc.DeadAfter, err = countDead(ctx, c); err != nil {
			return err
		}
		if sc.DeadAfter != last {
			logf("  %s after the start: %d dead sessions, %d audit rows past the retention", time.Since(start).Round(time.Second), sc.DeadAfter.Sessions, sc.DeadAfter.Audit)
		}
		if sc.DeadAfter == (deadRows{}) {
			sc.SweepTook = time.Since(start)
			break
		}
		if time.Since(start) > 4*time.Minute {
			sc.SweepNote = "dead rows were still there 4 minutes after sdkauth started"
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	logf("  dead rows left: %d sessions, %d audit rows, %s after sdkauth started", sc.DeadAfter.Sessions, sc.DeadAfter.Audit, time.Since(start).Round(time.Second))
	start = time.Now()
	if err := vacuum(ctx, c); err != nil {
		return err
	}
	sc.VacuumTook = time.Since(start)
	if sc.Swept, err = tableSizes(ctx, c); err != nil {
		return err
	}

	// The restarted process has not hashed a password yet, so its heap is
	// smaller than that of the one that ran the empty database's phases
	// after the sign-ups, and its garbage collector runs more often: perf
	// put the collector at 17% of sdkauth's CPU in the filled admin list
	// against 9% empty. As many sign-ups as before make the two processes
	// alike, so that the comparison is of the data alone.
	logf("scale: signing up %d more users, as the empty database's sdkauth did before its phases …", b.signups)
	if err := b.signupMany(ctx, "bench-again", b.signups, 3000); err != nil {
		return err
	}

	logf("scale: EXPLAIN of the hot queries on the filled database …")
	if sc.FilledPlans, err = explainAt(ctx, c); err != nil {
		return err
	}
	if sc.Swept, err = tableSizes(ctx, c); err != nil {
		return err
	}
	if err := b.tokenPhases(ctx, filledSuffix); err != nil {
		return err
	}
	sc.After, err = tableSizes(ctx, c)
	return err
}

// explainAt aims the hot queries at rows of the database as it is.
func explainAt(ctx context.Context, c *pgx.Conn) ([]plan, error) {
	var s explainSample
	rows, err := c.Query(ctx, `SELECT token_hash FROM refresh_tokens WHERE rotated_at IS NULL ORDER BY session_id LIMIT 6`)
	if err == nil {
		s.tokenHash, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
	}
	if err == nil && len(s.tokenHash) < 6 {
		err = fmt.Errorf("%d live refresh tokens, want 6", len(s.tokenHash))
	}
	if err == nil {
		err = c.QueryRow(ctx, `SELECT id::text, username FROM users ORDER BY lower(username) LIMIT 1`).Scan(&s.userID, &s.username)
	}
	if err == nil {
		// -only may have left no service client to look up.
		err = c.QueryRow(ctx, `SELECT COALESCE((SELECT id FROM service_clients LIMIT 1), 'none')`).Scan(&s.clientID)
	}
	if err == nil {
		err = c.QueryRow(ctx, `SELECT created_at, id::text FROM users ORDER BY created_at, id OFFSET (SELECT count(*) / 2 FROM users) LIMIT 1`).Scan(&s.cursorAt, &s.cursorID)
	}
	if err != nil {
		return nil, fmt.Errorf("choosing rows to explain: %w", err)
	}
	return explainHot(ctx, c, s, "db")
}

// tableSizes measures the filled tables (exact row counts).
func tableSizes(ctx context.Context, c *pgx.Conn) ([]tableSize, error) {
	var out []tableSize
	for _, t := range scaleTables {
		ts := tableSize{Table: t}
		err := c.QueryRow(ctx, `SELECT pg_relation_size($1::regclass), pg_indexes_size($1::regclass),
			(SELECT string_agg(indexrelid::regclass::text || ' ' || pg_size_pretty(pg_relation_size(indexrelid)), ', ' ORDER BY indexrelid::regclass::text)
			 FROM pg_index WHERE indrelid = $1::regclass),
			(SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = $1::regclass),
			(SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = $1::regclass)`, t).Scan(&ts.Heap, &ts.Indexes, &ts.IndexesBreakup, &ts.Updates, &ts.HOT)
		if err == nil {
			err = c.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t}.Sanitize()).Scan(&ts.Rows)
		}
		if err != nil {
			return nil, fmt.Errorf("measuring %s: %w", t, err)
		}
		out = append(out, ts)
	}
	return out, nil
}

// countDead counts the rows the sweeper is to delete: sessions as
// SweepSessions chooses them, audit rows past the retention.
func countDead(ctx context.Context, c *pgx.Conn) (d deadRows, err error) {
	err = c.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM sessions WHERE expires_at < now() - interval '1 day'
		    OR revoked_at < now() - interval '1 day'
		    OR refreshed_at < now() - make_interval(secs => $1::float8) - interval '1 day'),
		(SELECT count(*) FROM audit_log WHERE at < now() - make_interval(secs => $2::float8))`,
		sessionIdle.Seconds(), auditRetention.Seconds()).Scan(&d.Sessions, &d.Audit)
	return d, err
}

// scaleMarkdown is the -scale section of the report.
func (r *report) scaleMarkdown(w func(string, ...any)) {
	sc := r.Scale
	w("\n## At scale (-scale)\n\n")
	w("The same stack, after the phases above, filled with %d users, %d sessions (with 1 to 3 refresh tokens each: the rotated ones and the current one) and %d audit rows, then the same phases again (\"%s\"). The fill is bulk SQL in bench/scale.go: `INSERT … SELECT … generate_series` with the tables' indexes and constraints dropped and built again after, synchronous_commit off for the fill's own connections only, sdkauth stopped meanwhile. Password hashes are %d real argon2id hashes from auth.Hasher with the server's parameters, shared by the users. Every %dth session ended over a day ago and the oldest %d audit rows are past SDKAUTH_AUDIT_RETENTION (90 days), for the sweeper. Before the filled phases the bench signs up as many users as it did before the empty ones, so that the restarted sdkauth has hashed passwords too and its heap, and so how often its garbage collector runs, is like the first one's (without it, the collector took 17%% of sdkauth's CPU in the filled admin list against 9%% empty, and the admin list fell to 79–88%% of the empty rate).\n\n",
		sc.Size.users, sc.Size.sessions, sc.Size.audit, strings.TrimSpace(filledSuffix), fillHashes, deadSessionEvery, oldAuditRows)
	w("### Rates, empty against filled\n\nCPU per request (ms of server + Postgres CPU) is the figure least moved by the other load on a shared machine; a rate moves with it.\n\n| phase | empty | filled | filled / empty | CPU/req empty | CPU/req filled | p99 empty | p99 filled | p99 filled / empty |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, ph := range r.Phases {
		if strings.HasSuffix(ph.Name, filledSuffix) {
			continue
		}
		f, ok := r.phase(ph.Name + filledSuffix)
		if !ok || ph.Rate() <= 0 {
			continue
		}
		w("| %s | %.0f/s | %.0f/s | %.0f%% | %s | %s | %s | %s | %.2f× |\n", ph.Name, ph.Rate(), f.Rate(), 100*f.Rate()/ph.Rate(),
			cpuPerRequest(ph), cpuPerRequest(f), ms(ph.Percentile(99)), ms(f.Percentile(99)), float64(f.Percentile(99))/float64(max(ph.Percentile(99), 1)))
	}
	w("\nTargets: each closed-loop rate within 15%% of the empty database's (filled / empty ≥ 85%%); the admin list's p99 within 2× (compare the open-loop rows, which offer both databases the same rate).\n")

	w("\n### The fill took %s\n\n| step | time |\n|---|---:|\n", sc.FillTook.Round(time.Second))
	for _, s := range sc.Fill {
		w("| %s | %s |\n", s.What, s.Took.Round(100*time.Millisecond))
	}

	w("\n### Table and index sizes\n\n| table | rows empty | rows filled | rows after the sweep | heap empty | heap filled | heap after the sweep | indexes empty | indexes filled | indexes after the sweep |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, t := range sc.Filled {
		e, s := sc.Empty[i], sc.Swept[i]
		w("| %s | %d | %d | %d | %s | %s | %s | %s | %s | %s |\n", t.Table, e.Rows, t.Rows, s.Rows,
			mib(e.Heap), mib(t.Heap), mib(s.Heap), mib(e.Indexes), mib(t.Indexes), mib(s.Indexes))
	}
	w("\nOnce the filled phases had run: ")
	for i, t := range sc.After {
		s := sc.Swept[i]
		w("%s %d rows, heap %s, indexes %s", t.Table, t.Rows, mib(t.Heap), mib(t.Indexes))
		if upd := t.Updates - s.Updates; upd > 0 {
			w(" (%d updates in the filled phases, %.0f%% of them HOT)", upd, 100*float64(t.HOT-s.HOT)/float64(upd))
		}
		w("; ")
	}
	w("\n\nIndexes after the sweep: ")
	for _, t := range sc.Swept {
		w("%s: %s. ", t.Table, t.IndexesBreakup)
	}
	w("\n\nSizes are pg_relation_size and pg_indexes_size; rows are exact counts.\n")

	w("\n### The sweeper\n\nDead rows before sdkauth started again: %d sessions (with their refresh tokens), %d audit rows past the retention. ", sc.DeadBefore.Sessions, sc.DeadBefore.Audit)
	if sc.SweepNote != "" {
		w("**%s**: %d sessions and %d audit rows left.", sc.SweepNote, sc.DeadAfter.Sessions, sc.DeadAfter.Audit)
	} else {
		w("None left %s after it started (its first sweep runs a minute after start). ", sc.SweepTook.Round(time.Second))
	}
	w("VACUUM (ANALYZE) afterwards took %s; the space the deleted rows held is reused by new ones, so the heaps stay at the size above while deletions keep pace with insertions.\n", sc.VacuumTook.Round(100*time.Millisecond))

	w("\n### EXPLAIN (ANALYZE, BUFFERS) of the hot queries\n\nEach query as sqlc generated it (db/*.sql.go), prepared and executed five times in a transaction that is rolled back, then explained: the plan a pooled connection settles on. Times are Postgres's own (planning + execution), one run each, so read them as orders of magnitude.\n\n| query | path | empty: planning + execution | filled: planning + execution |\n|---|---|---:|---:|\n")
	for i, p := range sc.FilledPlans {
		e := sc.EmptyPlans[i]
		w("| %s | %s | %s | %s |\n", p.Query, p.Path, planTime(e), planTime(p))
	}
	w("\n<details><summary>Plans on the filled database</summary>\n\n")
	for _, p := range sc.FilledPlans {
		w("%s (%s):\n\n```\n%s\n```\n\n", p.Query, p.Path, p.Text)
	}
	w("</details>\n")
}

// cpuPerRequest is a phase's server and Postgres CPU per successful request.
func cpuPerRequest(p phaseResult) string {
	if p.OK == 0 {
		return "n/a"
	}
	per := func(cpu float64) float64 { return 1000 * cpu / float64(p.OK) }
	return fmt.Sprintf("%.2f + %.2f", per(p.ServerCPU), per(p.PostgresCPU))
}

func planTime(p plan) string {
	if p.Err != "" {
		return "error: " + p.Err
	}
	return fmt.Sprintf("%.3f + %.3f ms", p.Planning, p.Execution)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
