package users

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// importBatch is how many users one transaction of an import writes: enough
// that a round trip and a commit are shared by many rows, few enough that a
// batch that fails costs little to send again.
const importBatch = 1000

// What became of a line of an import.
const (
	ImportCreated = "created"
	ImportExists  = "exists"
	ImportFailed  = "failed"
)

// ImportLine is one user of an import with its line number in the file.
type ImportLine struct {
	Line  int
	Input CreateInput
}

// ImportResult is what became of one line of an import.
type ImportResult struct {
	Line     int
	Username string
	Status   string         // ImportCreated, ImportExists or ImportFailed
	UserID   uuid.UUID      // the user created or found; uuid.Nil when failed
	Err      *sdkauth.Error // why the line failed
}

// Import creates the users of lines that do not exist yet, as Create
// would, but in batches: each batch's users, their provisioning jobs and
// their audit records commit in one transaction, and the background worker
// provisions them at Vonage, never inline. It is idempotent by username: a
// user that exists already (in any case) is reported ImportExists and left
// as it is, so a file sent again after a cut creates the rest and
// duplicates nothing.
//
// Every line gets its result whatever happens to the others. A line fails
// alone with a validation error naming its field (including a username an
// earlier line already gave and a policy that does not exist),
// CodeUsernameTaken for a name reserved after a deletion, a validation
// error naming the line when Postgres refuses its values (the rest of its
// batch is written without it), or CodeUnavailable when the database fails
// in its batch or ctx ends before it is written.
// Clear-text passwords are hashed with argon2id, which is most of the cost
// of an import that has them; imported hashes are only format-checked.
func (s *Service) Import(ctx context.Context, lines []ImportLine) []ImportResult {
	im := &importer{s: s, lines: lines, res: make([]ImportResult, len(lines)), hashes: make([]string, len(lines))}
	todo := im.check()
	todo = im.checkPolicies(ctx, todo)
	todo = im.skipExisting(ctx, todo)
	for start := 0; start < len(todo); start += importBatch {
		if err := ctx.Err(); err != nil {
			im.failAll(todo[start:], notImported(err))
			break
		}
		batch := todo[start:min(start+importBatch, len(todo))]
		im.write(ctx, im.hash(ctx, batch))
		for _, i := range batch {
			im.hashes[i] = "" // not kept past its batch
		}
	}
	return im.res
}

// importer is one Import in progress; lines, res and hashes share indexes.
type importer struct {
	s      *Service
	lines  []ImportLine
	res    []ImportResult
	hashes []string
}

func (im *importer) fail(i int, err *sdkauth.Error) {
	im.res[i].Status, im.res[i].UserID, im.res[i].Err = ImportFailed, uuid.Nil, err
}

func (im *importer) failAll(todo []int, err *sdkauth.Error) {
	for _, i := range todo {
		im.fail(i, err)
	}
}

// check applies Create's rules to every line and refuses a username an
// earlier line gave; it returns the indexes of the lines that pass.
func (im *importer) check() []int {
	todo := make([]int, 0, len(im.lines))
	firstLine := make(map[string]int, len(im.lines))
	for i, l := range im.lines {
		im.res[i] = ImportResult{Line: l.Line, Username: l.Input.Username}
		if ValidateUsername("username", l.Input.Username) == nil {
			key := strings.ToLower(l.Input.Username)
			if first, seen := firstLine[key]; seen {
				im.fail(i, sdkauth.Invalid(sdkauth.FieldError{Name: "username",
					Reason: fmt.Sprintf("repeats line %d (usernames are unique without regard to case)", first)}))
				continue
			}
			firstLine[key] = l.Line
		}
		if fields := l.Input.check(); len(fields) > 0 {
			im.fail(i, sdkauth.Invalid(fields...))
			continue
		}
		todo = append(todo, i)
	}
	return todo
}

// checkPolicies refuses the lines whose policy does not exist, asking the
// database once for every policy the import names.
func (im *importer) checkPolicies(ctx context.Context, todo []int) []int {
	var names []string
	named := map[string]bool{}
	for _, i := range todo {
		if p := im.policy(i); !named[p] {
			named[p] = true
			names = append(names, p)
		}
	}
	if len(names) == 0 {
		return todo
	}
	found, err := db.New(im.s.pool).PoliciesNamed(ctx, names)
	if err != nil {
		im.failAll(todo, im.batchError(ctx, err))
		return nil
	}
	exists := make(map[string]bool, len(found))
	for _, name := range found {
		exists[name] = true
	}
	kept := make([]int, 0, len(todo))
	for _, i := range todo {
		if !exists[im.policy(i)] {
			im.fail(i, errNoPolicy(im.policy(i)))
			continue
		}
		kept = append(kept, i)
	}
	return kept
}

func (im *importer) policy(i int) string {
	if p := im.lines[i].Input.Policy; p != "" {
		return p
	}
	return im.s.policy
}

// skipExisting reports the lines whose user exists already and returns the
// others. It runs before any hashing, so a retried import pays for the
// passwords of the users it has not created yet only.
func (im *importer) skipExisting(ctx context.Context, todo []int) []int {
	kept := make([]int, 0, len(todo))
	for start := 0; start < len(todo); start += importBatch {
		batch := todo[start:min(start+importBatch, len(todo))]
		existing, err := im.existing(ctx, batch)
		if err != nil {
			im.failAll(todo[start:], im.batchError(ctx, err))
			break
		}
		for _, i := range batch {
			if id, ok := existing[strings.ToLower(im.lines[i].Input.Username)]; ok {
				im.res[i].Status, im.res[i].UserID = ImportExists, id
				continue
			}
			kept = append(kept, i)
		}
	}
	return kept
}

// existing returns the ids of the users of batch that exist, by lowercased
// name.
func (im *importer) existing(ctx context.Context, batch []int) (map[string]uuid.UUID, error) {
	names := make([]string, len(batch))
	for k, i := range batch {
		names[k] = strings.ToLower(im.lines[i].Input.Username)
	}
	rows, err := db.New(im.s.pool).UsersNamed(ctx, names)
	found := make(map[string]uuid.UUID, len(rows))
	for _, r := range rows {
		found[strings.ToLower(r.Username)] = r.ID
	}
	return found, err
}

// hash hashes the clear-text passwords of batch side by side, one per CPU
// (the Hasher's slots, which logins share, bound them all), and returns the
// lines that are ready to write.
func (im *importer) hash(ctx context.Context, batch []int) []int {
	next := make(chan int)
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := range next {
				im.hashes[batch[k]], errs[k] = im.s.hashWaiting(ctx, im.lines[batch[k]].Input.Password)
			}
		})
	}
	for k, i := range batch {
		if im.lines[i].Input.PasswordHash != "" {
			im.hashes[i] = im.lines[i].Input.PasswordHash
			continue
		}
		next <- k
	}
	close(next)
	wg.Wait()
	ready := make([]int, 0, len(batch))
	for k, i := range batch {
		switch {
		case errs[k] == nil:
			ready = append(ready, i)
		case ctx.Err() != nil:
			im.fail(i, notImported(ctx.Err()))
		default:
			im.fail(i, hashingError(errs[k]))
		}
	}
	return ready
}

// hashWaiting hashes password, waiting for a free hashing slot as long as
// ctx allows: an import is not a login, and may queue.
func (s *Service) hashWaiting(ctx context.Context, password string) (string, error) {
	for {
		h, err := s.hasher.Hash(ctx, password)
		if !errors.Is(err, auth.ErrBusy) {
			return h, err
		}
	}
}

// write stores batch in one transaction: the users, minus any whose name is
// reserved, their create jobs and their sign-up records. A name that
// someone took since skipExisting looked is reported as existing.
func (im *importer) write(ctx context.Context, batch []int) {
	if len(batch) == 0 {
		return
	}
	// In name order, so that imports naming the same users at once wait
	// for each other's rows in one order and cannot deadlock.
	batch = slices.Clone(batch)
	slices.SortFunc(batch, func(a, b int) int {
		return strings.Compare(strings.ToLower(im.lines[a].Input.Username), strings.ToLower(im.lines[b].Input.Username))
	})
	n := len(batch)
	p := db.InsertImportedUsersParams{
		Ids: make([]uuid.UUID, n), Usernames: make([]string, n), PasswordHashes: make([]string, n),
		DisplayNames: make([]string, n), ImageUrls: make([]string, n), Policies: make([]string, n),
	}
	line := make(map[uuid.UUID]int, n)
	for k, i := range batch {
		in := im.lines[i].Input
		p.Ids[k] = uuid.New()
		p.Usernames[k], p.PasswordHashes[k], p.Policies[k] = in.Username, im.hashes[i], im.policy(i)
		p.DisplayNames[k], p.ImageUrls[k] = in.DisplayName, in.ImageURL
		line[p.Ids[k]] = i
	}
	var created, reserved []uuid.UUID
	err := db.WithTx(ctx, im.s.pool, func(q *db.Queries) error {
		inserted, err := q.InsertImportedUsers(ctx, p)
		if err != nil {
			return err
		}
		if reserved, err = q.DeleteReservedImports(ctx, inserted); err != nil {
			return err
		}
		created = without(inserted, reserved)
		if err := q.EnqueueCreateJobs(ctx, created); err != nil {
			return err
		}
		evs := make([]auth.Event, len(created))
		for k, id := range created {
			evs[k] = auth.Event{Type: auth.EventSignup, UserID: id, Username: im.lines[line[id]].Input.Username, Detail: "import"}
		}
		return im.s.audit.RecordManyTx(ctx, q, evs)
	})
	switch {
	case err == nil:
	case db.IsRowRefused(err) && len(batch) > 1 && ctx.Err() == nil:
		// A row the checks let through and Postgres refuses (a policy
		// deleted meanwhile, say) must not sink the rest: halve the batch
		// until that line stands alone.
		im.write(ctx, batch[:n/2])
		im.write(ctx, batch[n/2:])
		return
	case db.IsForeignKeyViolation(err): // the policy was deleted since checkPolicies
		im.fail(batch[0], errNoPolicy(im.policy(batch[0])))
		return
	case db.IsRowRefused(err):
		im.s.log.WarnContext(ctx, "the database refused an imported line", "line", im.lines[batch[0]].Line, "err", err)
		im.fail(batch[0], sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: "was refused by the database"}))
		return
	default:
		im.failAll(batch, im.batchError(ctx, err))
		return
	}
	im.s.prov.Nudge()
	for _, id := range created {
		i := line[id]
		im.res[i].Status, im.res[i].UserID = ImportCreated, id
	}
	for _, id := range reserved {
		im.fail(line[id], errNameReserved())
	}
	var raced []int
	for _, i := range batch {
		if im.res[i].Status == "" {
			raced = append(raced, i)
		}
	}
	if len(raced) == 0 {
		return
	}
	existing, err := im.existing(ctx, raced)
	for _, i := range raced {
		id, ok := existing[strings.ToLower(im.lines[i].Input.Username)]
		switch {
		case err != nil:
			im.fail(i, im.batchError(ctx, err))
		case ok:
			im.res[i].Status, im.res[i].UserID = ImportExists, id
		default: // taken, then deleted again, while the batch was written
			im.fail(i, errUsernameTaken())
		}
	}
}

func without(ids, drop []uuid.UUID) []uuid.UUID {
	if len(drop) == 0 {
		return ids
	}
	dropped := make(map[uuid.UUID]bool, len(drop))
	for _, id := range drop {
		dropped[id] = true
	}
	kept := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if !dropped[id] {
			kept = append(kept, id)
		}
	}
	return kept
}

// batchError is what the lines of a batch the database could not write
// are told; the cause is logged here, once per batch, and never shown.
func (im *importer) batchError(ctx context.Context, err error) *sdkauth.Error {
	if ctx.Err() != nil {
		return notImported(ctx.Err())
	}
	im.s.log.ErrorContext(ctx, "an import batch was not written", "err", err)
	return &sdkauth.Error{Code: sdkauth.CodeUnavailable, RetryAfter: time.Second, Err: err,
		Message: "Not imported: the database failed while writing this line's batch; send the file again to import the rest."}
}

// notImported is the result of a line that ctx ended before it was written.
func notImported(err error) *sdkauth.Error {
	msg := "Not imported: the import was stopped before this line; send the file again to import the rest."
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "Not imported: the import ran out of time before this line; send the file again to import the rest."
	}
	return &sdkauth.Error{Code: sdkauth.CodeUnavailable, Message: msg, RetryAfter: time.Second, Err: err}
}

func errNameReserved() *sdkauth.Error {
	return &sdkauth.Error{
		Code:    sdkauth.CodeUsernameTaken,
		Message: "That username is taken.",
		Fields:  []sdkauth.FieldError{{Name: "username", Reason: "belonged to a deleted user and stays reserved until every token naming it has expired"}},
	}
}

func errNoPolicy(name string) *sdkauth.Error {
	return sdkauth.Invalid(sdkauth.FieldError{Name: "policy", Reason: fmt.Sprintf("no policy is called %q", name)})
}
