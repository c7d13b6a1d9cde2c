package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// cliActor marks audit rows of changes made with the command line.
const cliActor = "cli"

// cliClients returns the service clients store as the command line uses it:
// audited, with the command line as the actor.
func cliClients(ctx context.Context, pool *pgxpool.Pool) (context.Context, *auth.Clients) {
	ctx = auth.WithOrigin(ctx, auth.Origin{Actor: cliActor})
	return ctx, auth.NewClients(pool, nil, auth.NewAudit(pool, slog.Default()))
}

// withPool runs fn with a pool on DATABASE_URL.
func withPool(ctx context.Context, fn func(*pgxpool.Pool) error) error {
	cfg, err := loadConfig(envOf(ctx), need{Database: true})
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

func clientsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Manage service clients (backend services and admin tools)",
	}
	var name, scopes, output string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a service client; its secret is shown once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withPool(cmd.Context(), func(pool *pgxpool.Pool) error {
				ctx, clients := cliClients(cmd.Context(), pool)
				cl, secret, err := clients.Create(ctx, name, splitList(scopes))
				if err != nil {
					return err
				}
				return printClient(cmd.OutOrStdout(), output, cl, secret)
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the client is for (required)")
	create.Flags().StringVar(&scopes, "scopes", "", "comma-separated: "+strings.Join(auth.AllScopes, ", ")+" (required)")
	create.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("scopes")

	list := &cobra.Command{
		Use:   "list",
		Short: "List service clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withPool(cmd.Context(), func(pool *pgxpool.Pool) error {
				ctx, clients := cliClients(cmd.Context(), pool)
				cls, err := clients.List(ctx)
				if err != nil {
					return err
				}
				if output == "json" {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(cls)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT ID\tNAME\tSCOPES\tCREATED")
				for _, c := range cls {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Name, strings.Join(c.Scopes, ","), c.CreatedAt.Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "text", "text or json")

	rotate := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Replace a client's secret; the old one stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPool(cmd.Context(), func(pool *pgxpool.Pool) error {
				ctx, clients := cliClients(cmd.Context(), pool)
				cl, secret, err := clients.RotateSecret(ctx, args[0])
				if err != nil {
					return err
				}
				return printClient(cmd.OutOrStdout(), output, cl, secret)
			})
		},
	}
	rotate.Flags().StringVarP(&output, "output", "o", "text", "text or json")

	del := &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a service client",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPool(cmd.Context(), func(pool *pgxpool.Pool) error {
				ctx, clients := cliClients(cmd.Context(), pool)
				if err := clients.Delete(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "deleted", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, rotate, del)
	return cmd
}

func printClient(out io.Writer, format string, cl auth.ServiceClient, secret string) error {
	if format == "json" {
		return json.NewEncoder(out).Encode(map[string]any{
			"client_id": cl.ID, "client_secret": secret, "name": cl.Name, "scopes": cl.Scopes,
		})
	}
	fmt.Fprintf(out, "client_id:     %s\nclient_secret: %s\nname:          %s\nscopes:        %s\n\nThe secret is shown only this once; store it now.\n",
		cl.ID, secret, cl.Name, strings.Join(cl.Scopes, ","))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
