package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The database's StatefulSet: PostgreSQL in one container, in a second
// one a writer that fills the database once (pgbench -i) and then commits
// one row every 0.1 s over one connection. The pod is ready when
// PostgreSQL answers pg_isready and the writer writes.
const (
	appName   = "db"
	claimName = "data-db-0" // volumeClaimTemplate "data" of pod db-0
	pgData    = "/data/pg"
)

// dbScript starts PostgreSQL, creating the cluster on first start.
const dbScript = `set -e
if [ ! -s ` + pgData + `/PG_VERSION ]; then
  initdb -D ` + pgData + ` -U postgres --auth=trust >/dev/null
  printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = '/tmp'\n" >> ` + pgData + `/postgresql.conf
fi
exec postgres -D ` + pgData

// writerScript fills the database once and then commits a row every
// 0.1 s; SIGTERM ends it at once.
const writerScript = `trap 'exit 0' TERM
q() { psql -X -q -h 127.0.0.1 -U postgres "$@"; }
until pg_isready -q -h 127.0.0.1; do sleep 0.2; done
if ! q -tAc 'select 1 from ticks limit 1' >/dev/null 2>&1; then
  pgbench -i -q -s "$SCALE" -h 127.0.0.1 -U postgres postgres
  q -c 'create table ticks (id bigserial primary key, t timestamptz not null default clock_timestamp())'
fi
touch /tmp/writing
while :; do echo 'insert into ticks default values;'; sleep 0.1; done | q &
wait $!`

// database creates namespace ns on the source with the database and
// waits until it is filled and written to.
func database(ctx context.Context, cs kubernetes.Interface, ns, image string, scale int) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSet(image, scale), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create statefulset: %w", err)
	}
	start := time.Now()
	for time.Since(start) < 15*time.Minute && ctx.Err() == nil {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, appName, metav1.GetOptions{})
		if err == nil && s.Status.ReadyReplicas == 1 {
			logf("database filled and written to (%.0f s)", time.Since(start).Seconds())
			return nil
		}
		time.Sleep(time.Second)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("database in %s not ready after 15 minutes: see kubectl -n %s describe pod db-0", ns, ns)
}

func statefulSet(image string, scale int) *appsv1.StatefulSet {
	labels := map[string]string{"app": appName}
	probe := func(cmd ...string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}},
			PeriodSeconds: 1, TimeoutSeconds: 5, FailureThreshold: 3}
	}
	mount := []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	user := &corev1.SecurityContext{RunAsUser: ptr.To[int64](postgresUID), RunAsGroup: ptr.To[int64](postgresGID)}
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: appName}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To[int32](1), ServiceName: appName, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			InitContainers: []corev1.Container{{Name: "chown", Image: image, Command: []string{"sh", "-c",
				fmt.Sprintf("chmod 755 /data && mkdir -p %s && chown %d:%d %s && chmod 700 %s", pgData, postgresUID, postgresGID, pgData, pgData)},
				SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)}, VolumeMounts: mount}},
			Containers: []corev1.Container{
				{Name: "postgres", Image: image, Command: []string{"sh", "-c", dbScript}, SecurityContext: user,
					VolumeMounts: mount, ReadinessProbe: probe("pg_isready", "-q", "-h", "127.0.0.1")},
				{Name: "writer", Image: image, Command: []string{"sh", "-c", writerScript}, SecurityContext: user,
					Env:            []corev1.EnvVar{{Name: "SCALE", Value: fmt.Sprint(scale)}},
					ReadinessProbe: probe("test", "-f", "/tmp/writing")},
			}}},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("standard"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("4Gi")}}}}},
	}}
}

// hostPath is the directory on this machine that holds claim ns/name
// (the test bed's hostPath provisioner).
func hostPath(ctx context.Context, cs kubernetes.Interface, ns, name string) (string, error) {
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("claim %s/%s: %w", ns, name, err)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("volume of claim %s/%s: %w", ns, name, err)
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("volume %s of claim %s/%s is no hostPath volume: the benchmark reads volumes on this machine", pv.Name, ns, name)
	}
	return pv.Spec.HostPath.Path, nil
}
