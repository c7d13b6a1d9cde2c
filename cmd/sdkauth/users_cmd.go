package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

func usersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Look after end users and their Vonage users",
	}
	var fix bool
	var output string
	reconcile := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare local users with the application's Vonage users, and with --fix repair the drift",
		Long: `reconcile lists every Vonage user of the application (following the
pages to the end) and every local user, and reports:

  missing_remote       a local user whose Vonage user was deleted behind our back
  renamed_remotely     a local user whose Vonage user now has another name
  wrong_vonage_id      a local user linked to another Vonage id than its own user
  stuck_pending        a local user waiting for provisioning with no job queued
  fields_differ        display name or image differ (sdkauth's are the truth)
  orphaned_remote      a Vonage user sdkauth created whose local user is gone
  provisioning_failed  a provisioning job that ended as failed (a permanent
                       refusal by Vonage, or SDKAUTH_PROVISIONING_MAX_ATTEMPTS
                       attempts)
  name_taken_remotely  a local user's name held at Vonage by someone else
  remote_only          a Vonage user sdkauth did not create

--fix re-creates, renames, relinks, re-queues, updates, deletes orphans and
retries failed jobs (each at once, as the admin API's retry would); it never
deletes a Vonage user this sdkauth did not create, and leaves the last two
kinds to a person.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json")
			}
			cfg, err := loadConfig(envOf(cmd.Context()), need{Database: true, Key: true})
			if err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel, false)
			a, err := newApp(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()
			// Retried jobs are audit-logged with the command line as actor.
			ctx := auth.WithOrigin(cmd.Context(), auth.Origin{Actor: cliActor})
			rep, err := users.NewReconciler(a.Accounts.Provisioner).Run(ctx, fix)
			if perr := printReconcile(cmd.OutOrStdout(), output, rep, fix); err == nil {
				err = perr
			}
			return err
		},
	}
	reconcile.Flags().BoolVar(&fix, "fix", false, "repair what is sdkauth's to repair")
	reconcile.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.AddCommand(reconcile)
	return cmd
}

func printReconcile(w io.Writer, output string, rep users.Report, fix bool) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(w, "local users: %d, Vonage users: %d, pending provisioning: %d\n", rep.LocalUsers, rep.RemoteUsers, rep.Pending)
	if len(rep.Drift) == 0 {
		fmt.Fprintln(w, "no drift")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tUSERNAME\tUSER ID\tVONAGE ID\tDETAIL\tFIX")
	fixed := 0
	for _, d := range rep.Drift {
		id, outcome := "-", "-"
		if d.UserID != uuid.Nil {
			id = d.UserID.String()
		}
		switch {
		case d.Fixed:
			outcome = "fixed"
			fixed++
		case d.FixError != "":
			outcome = "failed: " + d.FixError
		case fix:
			outcome = "left alone"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, d.Username, id, orDash(d.VonageUserID), d.Detail, outcome)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d drift found, %d fixed\n", len(rep.Drift), fixed)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
