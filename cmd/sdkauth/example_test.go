package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/nodetest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// TestChatExampleRunsAgainstDev runs examples/chat as its README says, against
// `sdkauth dev`: two users sign up through it; one listens, the other sends a
// line, and the listener prints it.
func TestChatExampleRunsAgainstDev(t *testing.T) {
	const dir = "../../examples/chat"
	nodetest.Install(t, dir)
	dev := startDev(t)
	env := []string{"SDKAUTH_URL=" + dev.sdkauth, "VONAGE_URL=" + dev.emulator}

	listener := exec.Command("node", "chat.mjs", "--signup", "example-listener", "correct horse battery", "lobby")
	listener.Dir = dir
	listener.Env = append(listener.Environ(), env...)
	var heard syncBuffer
	listener.Stdout, listener.Stderr = &heard, &heard
	stdin, err := listener.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listener.Process.Kill() })
	testkit.WaitFor(t, 30*time.Second, "the listener to join", func() bool { return strings.Contains(heard.String(), "is in lobby") })

	sender := exec.Command("node", "chat.mjs", "--signup", "example-sender", "correct horse battery", "lobby")
	sender.Dir = dir
	sender.Env = append(sender.Environ(), env...)
	sender.Stdin = strings.NewReader("hello from the example\n")
	var said bytes.Buffer
	sender.Stdout, sender.Stderr = &said, &said
	if err := sender.Run(); err != nil {
		t.Fatalf("sender: %v\n%s", err, said.String())
	}
	testkit.WaitFor(t, 30*time.Second, "the listener to print the line", func() bool {
		return strings.Contains(heard.String(), "example-sender: hello from the example")
	})
	if !strings.Contains(said.String(), "example-sender: hello from the example") {
		t.Errorf("the sender did not see its own line come back:\n%s", said.String())
	}
	_, _ = io.WriteString(stdin, "bye\n")
	stdin.Close()
	if err := listener.Wait(); err != nil {
		t.Errorf("listener: %v\n%s", err, heard.String())
	}
	t.Logf("listener:\n%s\nsender:\n%s", heard.String(), said.String())
}
