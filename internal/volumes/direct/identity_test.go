package direct

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/mover/certs"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// TestTransferIdentities: two transfers of one source namespace get a
// client identity each; each pod mounts only its own transfer's Secret,
// holding only its own side's key, and each receiver accepts only the
// identity of its own transfer's client certificate. Cleanup removes
// every Secret.
func TestTransferIdentities(t *testing.T) {
	ctx := context.Background()
	o := testOptions(true)
	kube := o.Source.Kube
	transfers := []volumes.Transfer{
		testTransfer,
		{SourceNamespace: "shop", SourceClaim: "logs", DestinationNamespace: "shop-new", DestinationClaim: "logs-copy"},
	}
	run := &syncer{o: o}
	if _, err := run.sync(ctx, t, transfers...); err != nil {
		t.Fatal(err)
	}
	type side struct {
		secret, peer, ownURI string
		data                 map[string][]byte
	}
	sides := map[string][]side{}
	for _, tr := range transfers {
		sender := findPod(t, kube, tr.SourceNamespace, senderName(o.Migration, tr))
		receiver := findPod(t, kube, tr.DestinationNamespace, receiverName(o.Migration, tr))
		if sender == nil || receiver == nil {
			t.Fatalf("transfer %v: pods not started", tr)
		}
		for _, c := range []struct {
			role     string
			pod      *corev1.Pod
			certFile string
			keys     []string
		}{
			{moverpod.RoleSender, sender, "client.crt", []string{"ca.crt", "client.crt", "client.key"}},
			{moverpod.RoleReceiver, receiver, "server.crt", []string{"ca.crt", "server.crt", "server.key"}},
		} {
			secret := onlySecretVolume(t, c.pod)
			checkNoKeyInSpec(t, c.pod)
			s := getSecret(t, kube, c.pod.Namespace, secret)
			if !slices.Equal(sortedKeys(s.Data), c.keys) {
				t.Errorf("%s %s: secret %s holds %v, want %v", c.role, c.pod.Name, secret, sortedKeys(s.Data), c.keys)
			}
			cert, err := parseCert(s.Data[c.certFile])
			if err != nil {
				t.Fatalf("%s %s: %v", c.role, c.pod.Name, err)
			}
			if len(cert.URIs) != 1 {
				t.Fatalf("%s %s: certificate names URIs %v, want one", c.role, c.pod.Name, cert.URIs)
			}
			sides[c.role] = append(sides[c.role], side{secret: secret, peer: argAfter(c.pod, "--peer-name"), ownURI: cert.URIs[0].String(), data: s.Data})
		}
	}
	for _, role := range []string{moverpod.RoleSender, moverpod.RoleReceiver} {
		a, b := sides[role][0], sides[role][1]
		if a.secret == b.secret || a.ownURI == b.ownURI {
			t.Errorf("two transfers' %ss share secret %s / identity %s", role, a.secret, a.ownURI)
		}
	}
	for i := range transfers {
		snd, rcv := sides[moverpod.RoleSender][i], sides[moverpod.RoleReceiver][i]
		if rcv.peer == "" || rcv.peer != snd.ownURI {
			t.Errorf("transfer %d: receiver accepts %q, its sender's certificate names %q", i, rcv.peer, snd.ownURI)
		}
		if snd.peer == "" || snd.peer != rcv.ownURI {
			t.Errorf("transfer %d: sender accepts %q, its receiver's certificate names %q", i, snd.peer, rcv.ownURI)
		}
		// The receiver, loaded as "mover serve --peer-name" loads it,
		// completes a handshake with its own sender's certificate only.
		if err := handshake(t, rcv.data, rcv.peer, snd.data); err != nil {
			t.Errorf("transfer %d: receiver refuses its own sender: %v", i, err)
		}
		if err := handshake(t, rcv.data, rcv.peer, sides[moverpod.RoleSender][1-i].data); !errors.Is(err, certs.ErrPeerIdentity) {
			t.Errorf("transfer %d: receiver with the other transfer's client certificate: %v, want %v", i, err, certs.ErrPeerIdentity)
		}
	}

	if done, err := mustNew(t, o).Cleanup(ctx); err != nil || !done {
		t.Fatalf("cleanup = %v, %v", done, err)
	}
	secrets, err := kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	if err != nil || len(secrets.Items) != 0 {
		t.Errorf("secrets left after cleanup: %v, %v", secrets, err)
	}
}

// onlySecretVolume is the name of the one Secret a pod mounts.
func onlySecretVolume(t *testing.T, p *corev1.Pod) string {
	t.Helper()
	var names []string
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			names = append(names, v.Secret.SecretName)
		}
		if v.Projected != nil {
			t.Errorf("pod %s has a projected volume %s", p.Name, v.Name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("pod %s mounts secrets %v, want one", p.Name, names)
	}
	return names[0]
}

// checkNoKeyInSpec fails when a container has environment variables or
// an argument holding PEM data.
func checkNoKeyInSpec(t *testing.T, p *corev1.Pod) {
	t.Helper()
	for _, c := range p.Spec.Containers {
		if len(c.Env) > 0 || len(c.EnvFrom) > 0 {
			t.Errorf("pod %s: container %s has environment variables", p.Name, c.Name)
		}
		for _, a := range append(slices.Clone(c.Command), c.Args...) {
			if strings.Contains(a, "-----BEGIN") {
				t.Errorf("pod %s: container %s has PEM data in its arguments", p.Name, c.Name)
			}
		}
	}
}

// argAfter is the argument after flag in the pod's mover container, or "".
func argAfter(p *corev1.Pod, flag string) string {
	args := p.Spec.Containers[0].Args
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// handshake runs a TLS handshake over a pipe between a receiver configured
// from server (the files of its Secret) accepting peer and a client with
// the files of client, and returns the receiver's error.
func handshake(t *testing.T, server map[string][]byte, peer string, client map[string][]byte) error {
	t.Helper()
	dir := t.TempDir()
	for _, files := range []map[string][]byte{server, client} {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	srvCfg, err := certs.ServerConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.RequirePeer(srvCfg, peer); err != nil {
		t.Fatal(err)
	}
	cliCfg, err := certs.ClientConfig(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		c := tls.Client(b, cliCfg)
		if c.HandshakeContext(ctx) == nil {
			_, _ = c.Read(make([]byte, 1)) // reads the server's alert, if any
		}
		c.Close()
	}()
	return tls.Server(a, srvCfg).HandshakeContext(ctx)
}
