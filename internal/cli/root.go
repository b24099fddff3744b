// Package cli holds Ferry's cobra commands. Commands stay thin: they parse
// flags into an options struct and call library packages.
package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// NewRootCommand builds the `ferry` command tree. When the binary is
// invoked as `kubectl-ferry` (a kubectl plugin) the usage line says
// `kubectl ferry` instead.
func NewRootCommand() *cobra.Command {
	use := "ferry"
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-") {
		use = "kubectl ferry"
	}
	logs := &logOptions{}
	root := &cobra.Command{
		Use:   use,
		Short: "Migrate applications between Kubernetes clusters",
		Long: `Ferry migrates applications between Kubernetes clusters: a namespace's
resources, the data in its persistent volumes and the images in the source
cluster's registry, with stage, cutover and rollback migrations.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return logs.setup(cmd)
		},
	}
	logs.bindFlags(root.PersistentFlags())
	root.AddCommand(
		newVersionCommand(),
		newClusterCommand(),
		newPlanCommand(),
		newHookCommand(),
		newRepositoryCommand(),
		newRunCommand(ferryv1.MigrationStage, "Copy data and prepare the destination while the application keeps running"),
		newRunCommand(ferryv1.MigrationCutover, "Quiesce the source and recreate the application on the destination"),
		newRunCommand(ferryv1.MigrationRollback, "Remove what the plan created on the destination and restore the source"),
		newCancelCommand(),
		newRetryCommand(),
		newStatusCommand(),
		newMigrateCommand(),
		newControllerCommand(),
		newConsoleCommand(),
		newConfigCommand(),
	)
	root.AddCommand(newMoverCommand())
	return root
}

// ExitError is an error with the exit status the command should end with.
type ExitError struct {
	Code int
	Err  error
}

// Error implements error.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }
