package main

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/keys"
)

func jwtInspectCmd() *cobra.Command {
	var kf jwtKeyFlags
	cmd := &cobra.Command{
		Use:   "inspect TOKEN",
		Short: "Decode a Vonage JWT and say exactly what Vonage would object to (like `vonage jwt validate`)",
		Long:  "inspect decodes TOKEN (or standard input when TOKEN is -) and checks it against Vonage's rules and, when a key is configured, its signature.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok := args[0]
			if tok == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<10))
				if err != nil {
					return err
				}
				tok = string(b)
			}
			appID, key, err := kf.resolve(cmd.Context(), false)
			if err != nil {
				return err
			}
			var pub *rsa.PublicKey
			if key != nil {
				pub = &key.PublicKey
			}
			in, err := keys.Inspect(tok, pub, appID, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			printJSON(out, "header", in.Header)
			printJSON(out, "claims", in.Claims)
			fmt.Fprintln(out, "checks:")
			var bad []string
			for _, f := range in.Findings {
				mark := "ok  "
				if !f.OK {
					mark = "FAIL"
					bad = append(bad, f.Check)
				}
				fmt.Fprintf(out, "  %s %-15s %s\n", mark, f.Check, f.Detail)
			}
			if len(bad) > 0 {
				return errors.New("the token fails: " + strings.Join(bad, ", "))
			}
			fmt.Fprintln(out, "the token is valid")
			return nil
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&kf.keyPath, "key", "", "PEM file of the application's private key to check the signature with (the same as --private-key)")
	return cmd
}

func printJSON(out io.Writer, title string, v any) {
	b, _ := json.MarshalIndent(v, "  ", "  ")
	fmt.Fprintf(out, "%s:\n  %s\n", title, b)
}
