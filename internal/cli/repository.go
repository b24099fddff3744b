package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/planning"
)

func newRepositoryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "repository", Aliases: []string{"repo"},
		Short: "Add and inspect replication repositories: S3 storage that indirect migrations go through"}
	cmd.AddCommand(newRepositoryAddCommand(), newRepositoryListCommand(), newRepositoryDeleteCommand(), newRepositoryPruneCommand())
	return cmd
}

type repositoryAddOptions struct {
	host                hostOptions
	endpoint, bucket    string
	prefix, region      string
	credentialsFile     string
	caFile, keyFile     string
	pathStyle, insecure bool
	stdin               io.Reader
}

func newRepositoryAddCommand() *cobra.Command {
	o := &repositoryAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME --endpoint URL --bucket BUCKET --credentials-file FILE",
		Short: "Add or update a replication repository and check that Ferry can use it",
		Long: `Add a replication repository: a bucket (or a prefix of one) of an S3
service that both clusters of an indirect migration reach. The credentials
file is AWS-style, as Velero's --secret-file:

    [default]
    aws_access_key_id = ...
    aws_secret_access_key = ...

("-" reads it from standard input). Its keys go into the Secret
NAME-credentials in Ferry's namespace on the host, never into the
Repository object. The repository's encryption key (32 random bytes, or
--key-file to import an existing repository's) goes into the Secret
NAME-key: keep a copy of it (kubectl get secret NAME-key -o
jsonpath='{.data.repository-key}' | base64 -d > key), without it the
repository's data cannot be read.

The command waits for the controller to check the repository (list,
write, read and delete a test object) and prints the result.`,
		Example: `  ferry repository add s3 --endpoint https://s3.eu-west-1.amazonaws.com --region eu-west-1 --bucket ferry --credentials-file ~/.aws/credentials
  ferry repository add lab --endpoint http://10.200.1.1:7070 --path-style --bucket ferry --credentials-file - < creds
  ferry repository add minio --endpoint https://minio.example:9000 --path-style --ca-file ca.pem --bucket ferry --prefix team-a --credentials-file creds`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdin = cmd.InOrStdin()
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0])
		},
	}
	o.host.bindFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.endpoint, "endpoint", "", "URL of the S3 service, http:// or https://")
	f.StringVar(&o.bucket, "bucket", "", "bucket of the repository")
	f.StringVar(&o.prefix, "prefix", "", "folder of the bucket the repository lives in (several repositories may share a bucket)")
	f.StringVar(&o.region, "region", "", "region of the bucket (default us-east-1)")
	f.BoolVar(&o.pathStyle, "path-style", false, "address the bucket as ENDPOINT/BUCKET (most S3-compatible servers) instead of BUCKET.ENDPOINT")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the endpoint's certificate")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of the CA that signs the endpoint's certificate")
	f.StringVar(&o.credentialsFile, "credentials-file", "", "AWS-style credentials file with aws_access_key_id and aws_secret_access_key, - for standard input")
	f.StringVar(&o.keyFile, "key-file", "", "file of an existing repository's 32-byte encryption key to import (default: a new random key)")
	return cmd
}

// registration reads the files the flags name.
func (o *repositoryAddOptions) registration(name string) (ops.RepositoryRegistration, error) {
	r := ops.RepositoryRegistration{Name: name, Spec: ferryv1.RepositorySpec{Endpoint: o.endpoint, Bucket: o.bucket, Prefix: o.prefix,
		Region: o.region, PathStyle: o.pathStyle, InsecureSkipTLSVerify: o.insecure}}
	if o.endpoint == "" || o.bucket == "" || o.credentialsFile == "" {
		return r, fmt.Errorf("give --endpoint URL, --bucket BUCKET and --credentials-file FILE")
	}
	if o.insecure && o.caFile != "" {
		return r, fmt.Errorf("give --ca-file or --insecure, not both")
	}
	if o.caFile != "" {
		ca, err := os.ReadFile(o.caFile)
		if err != nil {
			return r, fmt.Errorf("--ca-file: %w", err)
		}
		r.Spec.CABundle = ca
	}
	in := o.stdin
	if o.credentialsFile != "-" {
		f, err := os.Open(o.credentialsFile)
		if err != nil {
			return r, fmt.Errorf("--credentials-file: %w", err)
		}
		defer f.Close()
		in = f
	}
	creds, err := ops.ParseCredentials(in)
	if err != nil {
		return r, fmt.Errorf("--credentials-file %s: %w", o.credentialsFile, err)
	}
	r.Credentials = creds
	if o.keyFile != "" {
		if r.Key, err = os.ReadFile(o.keyFile); err != nil {
			return r, fmt.Errorf("--key-file: %w", err)
		}
	}
	return r, r.Validate()
}

func (o *repositoryAddOptions) run(ctx context.Context, out io.Writer, name string) error {
	r, err := o.registration(name)
	if err != nil {
		return err
	}
	h, stop, _, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	since := time.Now()
	if _, err := h.ops.AddRepository(ctx, r); err != nil {
		return err
	}
	fmt.Fprintf(out, "repository %s stored (%s, bucket %s)\n", name, r.Spec.Endpoint, r.Spec.Bucket)
	repo, err := h.ops.WaitRepositoryChecked(ctx, name, since)
	if err != nil {
		return err
	}
	cond := meta.FindStatusCondition(repo.Status.Conditions, ferryv1.ConditionReady)
	fmt.Fprintf(out, "Ready: %s (%s): %s\n", cond.Status, cond.Reason, cond.Message)
	if cond.Status != metav1.ConditionTrue {
		return fmt.Errorf("repository %s is not ready: %s; fix it and run the same command again", name, cond.Reason)
	}
	return nil
}

type repositoryListOptions struct{ host hostOptions }

func newRepositoryListCommand() *cobra.Command {
	o := &repositoryListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the repositories and whether they are ready",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			l, err := h.ops.ListRepositories(cmd.Context())
			if err != nil {
				return err
			}
			listRepositories(cmd.OutOrStdout(), l)
			return nil
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func listRepositories(out io.Writer, l []ferryv1.Repository) {
	if len(l) == 0 {
		fmt.Fprintln(out, "no repositories: add one with `ferry repository add NAME --endpoint URL --bucket BUCKET --credentials-file FILE`")
		return
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tENDPOINT\tBUCKET\tPREFIX\tREADY\tREASON")
	for i := range l {
		ready, reason := "Unknown", "-"
		if c := meta.FindStatusCondition(l[i].Status.Conditions, ferryv1.ConditionReady); c != nil {
			ready, reason = string(c.Status), c.Reason
		}
		s := &l[i].Spec
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l[i].Name, s.Endpoint, s.Bucket, orDash(s.Prefix), ready, reason)
	}
	_ = tw.Flush()
}

type repositoryDeleteOptions struct{ host hostOptions }

func newRepositoryDeleteCommand() *cobra.Command {
	o := &repositoryDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a repository and its Secrets (its credentials and its key); the bucket's objects stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			if err := h.ops.DeleteRepository(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "repository %s deleted\n", args[0])
			return err
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

type repositoryPruneOptions struct{ host hostOptions }

func newRepositoryPruneCommand() *cobra.Command {
	o := &repositoryPruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune NAME",
		Short: "Remove from a repository's bucket what no snapshot uses",
		Long: `Remove from a repository's bucket what no snapshot uses: packs holding only
unused data are deleted, packs holding some are rewritten with the used part.
Deleting a plan removes its snapshots and prunes by itself; run this after a
prune was left for later (backups were running). It fails, changing nothing,
while backups or restores use the repository.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			res, err := h.ops.PruneRepository(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "repository %s pruned: %d snapshots use %d blobs; %d packs deleted, %d rewritten, %d kept; %s freed\n",
				args[0], res.Snapshots, res.BlobsUsed, res.PacksDeleted, res.PacksRepacked, res.PacksKept, planning.HumanBytes(res.BytesFreed))
			return err
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}
