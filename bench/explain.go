package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// hotQuery is one query of db/queries that a hot path or a sweep runs,
// with arguments like the server's, in the order of its $n. A refresh
// presents a new token each run, so that the run explained writes.
type hotQuery struct {
	name, path string
	args       func(s explainSample, run int) []any // run: 0 to 5, the last explained
}

// explainSample is a row of the filled tables to aim the hot queries at.
type explainSample struct {
	tokenHash [][]byte  // refresh tokens not yet rotated, one per run
	userID    string    // a user's id
	username  string    // that user's name
	clientID  string    // a service client
	cursorAt  time.Time // an admin list cursor in the middle of the users
	cursorID  string
}

var hotQueries = []hotQuery{
	{"RotateFreshRefreshTokens", "refresh_token", func(s explainSample, run int) []any {
		next := make([]byte, 32)
		next[0] = byte(run + 1)
		return []any{[][]byte{s.tokenHash[run]}, [][]byte{next}, []string{"127.0.0.1"}, []string{"bench"}, []string{""},
			sessionIdle.Seconds(), "token_refreshed", true}
	}},
	{"GetServiceClient", "client_credentials", func(s explainSample, _ int) []any { return []any{s.clientID} }},
	{"InsertAuditEvent", "client_credentials, sign-in", func(s explainSample, _ int) []any {
		return []any{"admin_token_issued", nil, "", nil, "127.0.0.1", "bench", "", "", "client:" + s.clientID}
	}},
	{"ListAllUsersAsc", "admin list, first page", func(s explainSample, _ int) []any {
		return []any{nil, nil, listPageSize + 1}
	}},
	{"ListAllUsersAsc", "admin list, a page in the middle", func(s explainSample, _ int) []any {
		return []any{s.cursorAt, s.cursorID, listPageSize + 1}
	}},
	{"ListAllUsersDesc", "admin list, newest first", func(s explainSample, _ int) []any {
		return []any{nil, nil, listPageSize + 1}
	}},
	{"ListUsersAsc", "admin list by username prefix", func(s explainSample, _ int) []any {
		return []any{nil, nil, "scale-00012%", nil, nil, nil, nil, listPageSize + 1}
	}},
	{"GetUserByUsername", "password grant", func(s explainSample, _ int) []any { return []any{s.username} }},
	{"LockRefreshToken", "refresh_token (slow path)", func(s explainSample, run int) []any { return []any{s.tokenHash[run]} }},
	{"ListLiveUserSessions", "console", func(s explainSample, _ int) []any { return []any{s.userID, sessionIdle.Seconds()} }},
	{"SweepSessions", "sweeper, every minute", func(s explainSample, _ int) []any { return []any{sessionIdle.Seconds()} }},
	{"SweepAuditLog", "sweeper, every minute (one batch)", func(s explainSample, _ int) []any {
		return []any{time.Time{}, time.Now().Add(-auditRetention), 1000}
	}},
}

// plan is the outcome of one EXPLAIN.
type plan struct {
	Query, Path         string
	Planning, Execution float64 // ms, as EXPLAIN ANALYZE reports them
	Text                string
	Err                 string
}

// generatedQueries reads the SQL sqlc generated (db/*.sql.go and
// db/batch.go) from the source tree, keyed by query name, so that what
// is explained is exactly what the server sends.
func generatedQueries(dbDir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dbDir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.HasPrefix(s, "-- name: ") {
				return true
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(s, "-- name: "), " ")
			out[name] = s
			return true
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no sqlc queries in %s (run the bench from the repository's root)", dbDir)
	}
	return out, nil
}

var timingLine = regexp.MustCompile(`(Planning|Execution) Time: ([0-9.]+) ms`)

// explainHot runs EXPLAIN (ANALYZE, BUFFERS) of every hot query, as sqlc
// generated it in dbDir, in a transaction that is rolled back, so nothing
// changes. A query is prepared and executed five times first, as a pooled
// connection would, so the plan shown is the one Postgres settles on
// (custom or generic).
func explainHot(ctx context.Context, c *pgx.Conn, s explainSample, dbDir string) ([]plan, error) {
	queries, err := generatedQueries(dbDir)
	if err != nil {
		return nil, err
	}
	var plans []plan
	for _, q := range hotQueries {
		p := plan{Query: q.name, Path: q.path}
		sql, ok := queries[q.name]
		if !ok {
			p.Err = "not found in db/*.go"
			plans = append(plans, p)
			continue
		}
		var runs [6][]any
		for i := range runs {
			runs[i] = q.args(s, i)
		}
		p.Text, err = explainOne(ctx, c, sql, runs)
		if err != nil {
			p.Err = err.Error()
		}
		for _, m := range timingLine.FindAllStringSubmatch(p.Text, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			if m[1] == "Planning" {
				p.Planning = v
			} else {
				p.Execution = v
			}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

func explainOne(ctx context.Context, c *pgx.Conn, sql string, runs [6][]any) (string, error) {
	execute := func(args []any) string {
		lits := make([]string, len(args))
		for i, a := range args {
			lits[i] = literal(a)
		}
		return "EXECUTE bench_hot(" + strings.Join(lits, ", ") + ")"
	}
	simple := pgx.QueryExecModeSimpleProtocol
	if _, err := c.Exec(ctx, "BEGIN", simple); err != nil {
		return "", err
	}
	defer func() {
		_, _ = c.Exec(context.Background(), "ROLLBACK", simple)
		_, _ = c.Exec(context.Background(), "DEALLOCATE bench_hot", simple)
	}()
	if _, err := c.Exec(ctx, "PREPARE bench_hot AS "+sql, simple); err != nil {
		return "", err
	}
	for _, args := range runs[:5] {
		if _, err := c.Exec(ctx, execute(args), simple); err != nil {
			return "", err
		}
	}
	rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+execute(runs[5]), simple)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// literal writes a for an EXECUTE's argument list.
func literal(a any) string {
	switch v := a.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		return `'\x` + hex.EncodeToString(v) + `'`
	case [][]byte:
		return arrayLiteral(v, "bytea")
	case []string:
		return arrayLiteral(v, "text")
	case time.Time:
		return "'" + v.UTC().Format(time.RFC3339Nano) + "'"
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// arrayLiteral is vs as an ARRAY[...] of sqlType.
func arrayLiteral[T any](vs []T, sqlType string) string {
	lits := make([]string, len(vs))
	for i, v := range vs {
		lits[i] = literal(v)
	}
	return "ARRAY[" + strings.Join(lits, ", ") + "]::" + sqlType + "[]"
}
