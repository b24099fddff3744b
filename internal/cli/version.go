package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/version"
)

type versionOptions struct {
	output string
}

func newVersionCommand() *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of ferry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: empty for text, or json")
	return cmd
}

func (o *versionOptions) validate() error {
	if o.output != "" && o.output != "json" {
		return fmt.Errorf("unknown output format %q: use json or leave it empty", o.output)
	}
	return nil
}

func (o *versionOptions) run(cmd *cobra.Command) error {
	info := version.Get()
	if o.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), info.String())
	return err
}
