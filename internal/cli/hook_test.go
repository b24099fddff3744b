package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestParsePlanHook(t *testing.T) {
	tests := []struct {
		in   string
		want ferryv1.PlanHook
		err  string
	}{
		{"flush:PreBackup", ferryv1.PlanHook{Hook: "flush", Phase: ferryv1.HookPreBackup}, ""},
		{"flush:prebackup:stages", ferryv1.PlanHook{Hook: "flush", Phase: ferryv1.HookPreBackup, Stages: true}, ""},
		{"smoke:PostRestore:cluster=source,namespace=ops", ferryv1.PlanHook{Hook: "smoke", Phase: ferryv1.HookPostRestore, Cluster: ferryv1.HookSource, Namespace: "ops"}, ""},
		{"flush", ferryv1.PlanHook{}, "name the hook and its phase"},
		{":PreBackup", ferryv1.PlanHook{}, "name the hook and its phase"},
		{"flush:Before", ferryv1.PlanHook{}, "unknown phase"},
		{"flush:PreBackup:cluster=elsewhere", ferryv1.PlanHook{}, "unknown option"},
	}
	for _, tt := range tests {
		got, err := parsePlanHook(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestHookSpecFromFlags(t *testing.T) {
	tests := []struct {
		name  string
		o     hookCreateOptions
		cmd   []string
		check func(ferryv1.HookSpec) bool
		err   string
	}{
		{"job with script, claim and env", hookCreateOptions{image: "tools", script: "sync", claims: []string{"data:/data", "logs:/logs:ro"}, env: []string{"A=1"}, timeout: time.Minute, onError: "continue"}, nil,
			func(s ferryv1.HookSpec) bool {
				return s.Job.Script == "sync" && len(s.Job.Claims) == 2 && s.Job.Claims[1].ReadOnly && s.Job.Env[0].Value == "1" &&
					s.Timeout.Duration == time.Minute && s.OnError == ferryv1.HookContinue
			}, ""},
		{"job with command", hookCreateOptions{image: "tools", cluster: "destination"}, []string{"wget", "http://web"},
			func(s ferryv1.HookSpec) bool {
				return reflect.DeepEqual(s.Job.Command, []string{"wget", "http://web"}) && s.Cluster == ferryv1.HookDestination
			}, ""},
		{"exec by selector", hookCreateOptions{exec: "app=db", container: "db"}, []string{"sync"},
			func(s ferryv1.HookSpec) bool {
				return s.Exec.Selector.MatchLabels["app"] == "db" && s.Exec.Container == "db" && s.Exec.Command[0] == "sync"
			}, ""},
		{"exec by pod", hookCreateOptions{pod: "db-0"}, []string{"sync"}, func(s ferryv1.HookSpec) bool { return s.Exec.PodName == "db-0" }, ""},
		{"neither", hookCreateOptions{}, nil, nil, "give one of --image"},
		{"both", hookCreateOptions{image: "i", exec: "app=db"}, []string{"x"}, nil, "give one of --image"},
		{"exec without command", hookCreateOptions{exec: "app=db"}, nil, nil, "needs its command"},
		{"exec with a claim", hookCreateOptions{exec: "app=db", claims: []string{"d:/d"}}, []string{"x"}, nil, "for Job hooks"},
		{"script and command", hookCreateOptions{image: "i", script: "s"}, []string{"x"}, nil, "not both"},
		{"bad claim", hookCreateOptions{image: "i", claims: []string{"data"}}, nil, nil, "--claim"},
		{"bad env", hookCreateOptions{image: "i", env: []string{"=1"}}, nil, nil, "--env"},
		{"bad side", hookCreateOptions{image: "i", cluster: "left"}, nil, nil, "--cluster"},
		{"bad on-error", hookCreateOptions{image: "i", onError: "ignore"}, nil, nil, "--on-error"},
	}
	for _, tt := range tests {
		got, err := tt.o.spec(tt.cmd)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !tt.check(got) {
			t.Errorf("%s: %+v, %v", tt.name, got, err)
		}
	}
}
