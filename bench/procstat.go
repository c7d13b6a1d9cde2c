package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// procTimes are the CPU seconds /proc/PID/stat reports for a process: its
// own, and those of its children it has waited for.
type procTimes struct {
	ppid          int
	self, reaped  float64
	startTimeTick uint64
}

// readProcTimes parses /proc/PID/stat. The command name may contain spaces
// and parentheses, so fields are counted from the last ')'.
func readProcTimes(pid int) (procTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (procTimes, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procTimes{}, errors.New("malformed /proc/PID/stat")
	}
	// After ") ": state(3) ppid(4) … utime(14) stime(15) cutime(16)
	// cstime(17) … starttime(22); f[0] is field 3.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procTimes{}, errors.New("short /proc/PID/stat")
	}
	num := func(k int) float64 {
		n, _ := strconv.ParseFloat(f[k-3], 64)
		return n
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[22-3], 10, 64)
	return procTimes{
		ppid:          ppid,
		self:          (num(14) + num(15)) / clockTicks,
		reaped:        (num(16) + num(17)) / clockTicks,
		startTimeTick: start,
	}, nil
}

// cpuSeconds is the CPU time pid has used so far.
func cpuSeconds(pid int) float64 {
	t, err := readProcTimes(pid)
	if err != nil {
		return 0
	}
	return t.self
}

// treeCPUSeconds is the CPU time of root and of every child it has now or
// had (the postmaster and its backends): children that exited count through
// root's reaped time, living ones through their own. Deltas of this value
// over a phase are the tree's CPU in that phase.
func treeCPUSeconds(root int) float64 {
	rt, err := readProcTimes(root)
	if err != nil {
		return 0
	}
	total := rt.self + rt.reaped
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		t, err := readProcTimes(pid)
		if err == nil && t.ppid == root {
			total += t.self + t.reaped
		}
	}
	return total
}

// statusKiB returns a "Vm…:  123 kB" field of /proc/PID/status in bytes.
func statusBytes(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				n, _ := strconv.ParseInt(fs[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM (Linux 4.0+, writing 5 to clear_refs), so that
// each phase reports its own peak. It reports whether that worked.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0) == nil
}

// rssWatch samples a process's resident set while a phase runs, in case
// VmHWM cannot be reset, and keeps the peak of either.
type rssWatch struct {
	pid   int
	reset bool
	peak  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{pid: pid, reset: resetPeakRSS(pid), stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss := statusBytes(pid, "VmRSS"); rss > w.peak.Load() {
				w.peak.Store(rss)
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Peak stops sampling and returns the phase's peak RSS in bytes.
func (w *rssWatch) Peak() int64 {
	close(w.stop)
	w.wg.Wait()
	peak := w.peak.Load()
	if w.reset {
		peak = max(peak, statusBytes(w.pid, "VmHWM"))
	}
	return peak
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
