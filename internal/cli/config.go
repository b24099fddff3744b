package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/ops"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change the host's settings (e.g. the data movers' image)",
		Long: `Settings stored on the host cluster, in the ConfigMap ` + ops.SettingsConfigMap + ` of Ferry's
namespace, for every controller that is not told otherwise. Settings:
  ` + ops.SettingMoverImage + `  image of the data mover pods (the ferry image); --mover-image
               and FERRY_MOVER_IMAGE override it`,
	}
	cmd.AddCommand(newConfigSetCommand(), newConfigGetCommand(), newConfigUnsetCommand())
	return cmd
}

// configOptions are a config verb's flags and arguments.
type configOptions struct {
	host       hostOptions
	key, value string
}

func newConfigSetCommand() *cobra.Command {
	o := &configOptions{}
	cmd := &cobra.Command{
		Use:     "set KEY VALUE",
		Short:   "Store a setting on the host",
		Example: "  ferry config set mover-image 10.200.1.1:5000/ferry@sha256:...",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key, o.value = args[0], args[1]
			if o.value == "" {
				return fmt.Errorf("no value for %s: remove a setting with `ferry config unset %s`", o.key, o.key)
			}
			return o.set(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func newConfigUnsetCommand() *cobra.Command {
	o := &configOptions{}
	cmd := &cobra.Command{
		Use:   "unset KEY",
		Short: "Remove a setting from the host",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key = args[0]
			return o.set(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func (o *configOptions) set(ctx context.Context, out io.Writer) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	if err := h.ops.SetSetting(ctx, o.key, o.value); err != nil {
		return err
	}
	where := h.namespace + "/" + ops.SettingsConfigMap
	if o.value == "" {
		_, err = fmt.Fprintf(out, "%s unset (%s)\n", o.key, where)
	} else {
		_, err = fmt.Fprintf(out, "%s set to %s (%s)\n", o.key, o.value, where)
	}
	return err
}

func newConfigGetCommand() *cobra.Command {
	o := &configOptions{}
	cmd := &cobra.Command{
		Use:   "get [KEY]",
		Short: "Show the host's settings, or print one setting's value alone",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.key = args[0]
			}
			return o.get(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func (o *configOptions) get(ctx context.Context, out io.Writer) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	if o.key != "" {
		v, err := h.ops.Setting(ctx, o.key)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, v)
		return err
	}
	settings, err := h.ops.Settings(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tDESCRIPTION")
	for _, s := range settings {
		v := s.Value
		if v == "" {
			v = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, v, s.Doc)
	}
	return tw.Flush()
}
