package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/db"
)

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Manage the database schema"}
	open := func(cmd *cobra.Command) (*db.Migrator, func(), error) {
		cfg, err := loadConfig(envOf(cmd.Context()), need{Database: true})
		if err != nil {
			return nil, nil, err
		}
		pool, err := db.Open(cmd.Context(), cfg.DatabaseURL)
		if err != nil {
			return nil, nil, err
		}
		m, err := db.NewMigrator(pool)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return m, pool.Close, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			applied, err := m.Up(cmd.Context())
			for _, v := range applied {
				fmt.Fprintf(cmd.OutOrStdout(), "applied %05d\n", v)
			}
			if err == nil && len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "the schema is current")
			}
			return err
		},
	}, &cobra.Command{
		Use:   "down",
		Short: "Roll back the newest migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			v, err := m.Down(cmd.Context())
			if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "rolled back %05d\n", v)
			}
			return err
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			st, err := m.Status(cmd.Context())
			if err != nil {
				return err
			}
			for _, s := range st {
				fmt.Fprintf(cmd.OutOrStdout(), "%05d  %-8s  %s\n", s.Source.Version, s.State, s.Source.Path)
			}
			return nil
		},
	})
	return cmd
}
