package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ferry.dev/ferry/internal/console"
)

// defaultConsoleListen is loopback only, on a free port.
const defaultConsoleListen = "127.0.0.1:0"

type consoleOptions struct {
	host          hostOptions
	listen        string
	allowRemote   bool
	runController bool
}

func newConsoleCommand() *cobra.Command {
	o := &consoleOptions{}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Serve Ferry's web console on this machine, as the current kubeconfig's user",
		Long: `Serve Ferry's web console on this machine. It listens on the loopback
address only (a free port unless --listen says which), acts with the
identity of the current kubeconfig (exactly what the CLI may do) and prints
a URL holding a one-time key: opening it signs the browser in. Nothing is
opened by itself, and without the key the console answers 401.

When no controller runs for the host, one runs in this process while the
console does (--run-controller=false turns that off). See docs/console.md.`,
		Example: `  ferry console
  ferry console --listen 127.0.0.1:8089
  ferry console --kubeconfig .localclusters/dst/kubeconfig`,
		Annotations: map[string]string{annotationLogLevel: "info"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkListen(o.listen, o.allowRemote); err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.bindFlags(cmd.Flags())
	return cmd
}

func (o *consoleOptions) bindFlags(f *pflag.FlagSet) {
	o.host.bindFlags(f)
	f.StringVar(&o.listen, "listen", defaultConsoleListen, "address to serve on, HOST:PORT (port 0: a free one); loopback only unless --allow-remote")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --listen address other than loopback: anyone who reaches it and holds the URL's key acts as your kubeconfig's user, over plain HTTP")
	f.BoolVar(&o.runController, "run-controller", true, "run a controller in this process while no other runs for the host")
}

// checkListen refuses an address other than loopback unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: give HOST:PORT, e.g. 127.0.0.1:8089: %w", addr, err)
	}
	if allowRemote || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("--listen %q is not a loopback address: the console acts as your kubeconfig's user for whoever reaches it; listen on 127.0.0.1, or add --allow-remote", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *consoleOptions) run(ctx context.Context, out io.Writer) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	if o.runController {
		stop, inProcess, err := h.ensureController(ctx)
		if err != nil {
			return err
		}
		defer stop()
		if inProcess {
			fmt.Fprintln(out, "no controller runs for the host: running one in this process while the console runs")
		}
	}
	key := console.NewLocalKey()
	srv, err := console.New(console.Options{Mode: console.ModeLocal, Namespace: h.namespace, Host: h.cfg, Client: h.c,
		LocalKey: key, Logger: logr.FromContextOrDiscard(ctx)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	if err := srv.Start(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	fmt.Fprintf(out, "Ferry console for %s (namespace %s): http://%s/?key=%s\n", h.cfg.Host, h.namespace, ln.Addr(), key)
	fmt.Fprintln(out, "the URL signs in once; stop the console with Ctrl-C")
	return serveConsole(ctx, ln, srv, nil)
}

// serveConsole serves the console on ln until ctx ends, then stops it:
// open event streams end with ctx.
func serveConsole(ctx context.Context, ln net.Listener, h http.Handler, tlsConfig *tls.Config) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		TLSConfig: tlsConfig, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve the console: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop the console: %w", err)
	}
	return nil
}
