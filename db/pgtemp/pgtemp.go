// Package pgtemp starts a throwaway PostgreSQL cluster from the server
// binaries found on the machine. `sdkauth dev` and the tests use it when no
// DATABASE_URL is given, so that a fresh machine needs nothing set up by hand.
package pgtemp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a running throwaway cluster. Stop removes every file it made.
type Cluster struct {
	// URL is a connection string for the "postgres" database as the
	// superuser "postgres" over TCP on 127.0.0.1.
	URL string

	dir  string
	bin  string
	cred *syscall.Credential
	// settings are the server options, for Resume.
	settings []string
}

// Options tune the cluster. The zero value is a durable-enough cluster for
// development; Fast trades durability for speed, which tests want.
type Options struct {
	// Fast turns off fsync and synchronous commit.
	Fast bool
	// Port to listen on; 0 picks a free one.
	Port int
	// Settings are more server settings, each NAME=VALUE without spaces
	// (passed as -c NAME=VALUE), after the defaults, so they win.
	Settings []string
}

// FindBinDir returns the directory holding initdb, pg_ctl and postgres: the
// one on PATH, or the newest /usr/lib/postgresql/N/bin.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgtemp: no PostgreSQL server binaries found (initdb on PATH or /usr/lib/postgresql/*/bin); install postgresql or set DATABASE_URL")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a cluster in a new temporary directory. As
// root, PostgreSQL refuses to run, so the cluster is owned by and run as the
// "postgres" system user when it exists, else "nobody".
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sdkauth-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.cred = cred
		err = os.Chmod(dir, 0o700)
		if err == nil {
			err = os.Chown(dir, int(cred.Uid), int(cred.Gid))
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtemp: preparing %s: %w", dir, err)
		}
	}
	if err := c.start(ctx, opt); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, opt Options) error {
	data := filepath.Join(c.dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fmt.Errorf("pgtemp: initdb: %w: %s", err, out)
	}
	port := opt.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		port = p
	}
	settings := []string{
		"-c listen_addresses=127.0.0.1",
		"-c port=" + strconv.Itoa(port),
		"-c unix_socket_directories=" + c.dir,
		"-c max_connections=300",
		"-c shared_buffers=128MB",
	}
	if opt.Fast {
		settings = append(settings, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	for _, s := range opt.Settings {
		if !strings.Contains(s, "=") || strings.ContainsAny(s, " \t\n'\"\\") {
			return fmt.Errorf("pgtemp: setting %q is not NAME=VALUE without spaces or quotes", s)
		}
		settings = append(settings, "-c "+s)
	}
	c.settings = settings
	if err := c.Resume(ctx); err != nil {
		return err
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return nil
}

// Halt stops the server at once, as a crash or a failover would (pg_ctl stop
// -m immediate), keeping its data for Resume.
func (c *Cluster) Halt(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pgtemp: pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// Resume starts the server (again) on its data directory and port.
func (c *Cluster) Resume(ctx context.Context) error {
	logFile := filepath.Join(c.dir, "postgres.log")
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", logFile, "-w", "-t", "60", "-o", strings.Join(c.settings, " "), "start"); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("pgtemp: pg_ctl start: %w: %s %s", err, out, log)
	}
	return nil
}

// Stop shuts the server down immediately and removes its directory.
func (c *Cluster) Stop() {
	if c == nil || c.dir == "" {
		return
	}
	data := filepath.Join(c.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = c.run(ctx, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		cancel()
	}
	os.RemoveAll(c.dir)
	c.dir = ""
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// Own process group: a Ctrl-C in the terminal reaches sdkauth, which then
	// stops the server itself, rather than killing postgres half-way.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	return cmd.CombinedOutput()
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtemp: running as root and no unprivileged user (postgres, nobody) to own the cluster")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
