package migrationctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/images"
	"ferry.dev/ferry/internal/planning"
)

// Phases of an image copy in status.images.
const (
	imagePending   = "Pending"
	imageRunning   = "Running"
	imageSucceeded = "Succeeded"
	imageFailed    = "Failed"
)

// imageJob is the image copy of one CopyImages step, running in a
// goroutine of this process: the step starts it and looks at it on each
// call, without blocking. A controller that restarts starts it again,
// and the copy then sends only what the destination does not have yet.
type imageJob struct {
	mu       sync.Mutex
	status   []ferryv1.ImageStatus
	finished bool
	cancel   context.CancelFunc
}

// imageJobs are the running copies by step run (migration UID and step
// index).
type imageJobs struct{ m sync.Map }

func (j *imageJobs) get(key string) *imageJob {
	v, ok := j.m.Load(key)
	if !ok {
		return nil
	}
	return v.(*imageJob)
}

// stop cancels the copies of a migration (a cancel or deletion).
func (j *imageJobs) stop(uid string) {
	j.m.Range(func(k, v any) bool {
		if strings.HasPrefix(k.(string), uid+"/") {
			v.(*imageJob).cancel()
			j.m.Delete(k)
		}
		return true
	})
}

// imageCopyTimeout bounds one run of the step's copy.
const imageCopyTimeout = 2 * time.Hour

// copyImages copies the internal images of the plan's workloads from the
// source's registry to the destination's (package images) while the
// source still runs: every image by digest, only the blobs the
// destination lacks. A failed image fails the step with what to do; the
// others are copied all the same, so a retry has less left.
func copyImages(ctx context.Context, s *session) (outcome, error) {
	if s.src.Registry == nil || s.dst.Registry == nil {
		return done(noRegistry(s)), nil
	}
	key := fmt.Sprintf("%s/%d", s.m.UID, s.idx)
	job := s.r.images.get(key)
	if job == nil {
		var err error
		if job, err = s.startImageCopy(ctx); err != nil || job == nil {
			return done("no images of the registry of cluster " + s.src.Name + " to copy"), err
		}
		s.r.images.m.Store(key, job)
	}
	job.mu.Lock()
	s.m.Status.Images = append([]ferryv1.ImageStatus(nil), job.status...)
	finished := job.finished
	job.mu.Unlock()
	msg, failures := imagesSummary(s.m.Status.Images)
	s.step().Progress = imagesProgress(s.m.Status.Images)
	if !finished {
		// Look often at first: a copy with little left (a cutover after
		// a stage) ends in well under a second.
		after := 2 * time.Second
		if time.Since(s.step().Started.Time) < 5*time.Second {
			after = 200 * time.Millisecond
		}
		return waiting(msg, after), nil
	}
	s.r.images.m.Delete(key)
	if len(failures) > 0 {
		return outcome{}, errors.New(msg + ": " + strings.Join(failures, "; "))
	}
	return done(msg), nil
}

// noRegistry says which cluster lacks a registry, so no image is copied.
func noRegistry(s *session) string {
	var without []string
	for _, c := range []*cluster.Clients{s.src, s.dst} {
		if c.Registry == nil {
			without = append(without, c.Name)
		}
	}
	return fmt.Sprintf("nothing copied: cluster %s has no registry (`ferry cluster add NAME --registry HOST[:PORT]`); images are left as they are, rewritten only by the plan's registryRewrites", strings.Join(without, " and "))
}

// startImageCopy lists the images and starts copying them; nil when
// there is nothing to copy.
func (s *session) startImageCopy(ctx context.Context) (*imageJob, error) {
	copies, err := planning.ImageCopies(ctx, s.plan, s.src, s.dst)
	if err != nil || len(copies) == 0 {
		s.m.Status.Images = nil
		return nil, err
	}
	srcE, err := images.EndpointFor(ctx, s.r.Client, s.src.Namespace, s.src.Registry)
	if err != nil {
		return nil, fmt.Errorf("registry of cluster %s: %w", s.src.Name, err)
	}
	dstE, err := images.EndpointFor(ctx, s.r.Client, s.dst.Namespace, s.dst.Registry)
	if err != nil {
		return nil, fmt.Errorf("registry of cluster %s: %w", s.dst.Name, err)
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), imageCopyTimeout)
	job := &imageJob{cancel: cancel}
	for _, c := range copies {
		job.status = append(job.status, ferryv1.ImageStatus{Source: c.Image, Destination: c.Destination, Phase: imagePending})
	}
	copier := &images.Copier{Source: srcE, Destination: dstE}
	go job.run(jctx, copier, copies, s.src.Name, s.dst.Name)
	return job, nil
}

// run copies the images one after the other (each one's blobs in
// parallel), so that an image sharing blobs with an earlier one mounts
// them.
func (j *imageJob) run(ctx context.Context, c *images.Copier, copies []images.Copy, src, dst string) {
	defer j.cancel()
	log := logf.FromContext(ctx)
	for i, cp := range copies {
		j.set(i, func(st *ferryv1.ImageStatus) { st.Phase = imageRunning })
		p, err := c.Copy(ctx, cp.From, cp.To, func(p images.Progress) {
			j.set(i, func(st *ferryv1.ImageStatus) { setProgress(st, p) })
		})
		j.set(i, func(st *ferryv1.ImageStatus) {
			setProgress(st, p)
			st.Phase, st.Message = imageSucceeded, ""
			if err != nil {
				st.Phase, st.Message = imageFailed, images.Explain(err, src, dst)
			}
		})
		if err != nil {
			log.Info("image copy failed", "image", cp.Image, "error", err.Error())
		}
	}
	j.mu.Lock()
	j.finished = true
	j.mu.Unlock()
}

func (j *imageJob) set(i int, f func(*ferryv1.ImageStatus)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.status[i])
}

func setProgress(st *ferryv1.ImageStatus, p images.Progress) {
	if p.Digest != "" {
		st.Digest = p.Digest
	}
	st.LayersDone, st.LayersTotal = p.BlobsDone, p.BlobsTotal
	st.BytesDone, st.BytesTotal, st.BytesSent = p.BytesDone, p.BytesTotal, p.BytesSent
}

// imagesSummary is the step's message and the failed images' messages.
func imagesSummary(st []ferryv1.ImageStatus) (string, []string) {
	var done, failed int
	var total, sent int64
	var failures []string
	for _, s := range st {
		total += s.BytesTotal
		sent += s.BytesSent
		switch s.Phase {
		case imageSucceeded:
			done++
		case imageFailed:
			failed++
			failures = append(failures, s.Message)
		}
	}
	msg := fmt.Sprintf("%d of %d images copied, %s sent of %s", done, len(st), planning.HumanBytes(sent), planning.HumanBytes(total))
	if failed > 0 {
		msg += fmt.Sprintf(", %d failed", failed)
	}
	return msg, failures
}

// imagesProgress is the step's progress in bytes (done: on the
// destination, sent or not).
func imagesProgress(st []ferryv1.ImageStatus) *ferryv1.Progress {
	p := &ferryv1.Progress{Unit: "bytes"}
	for _, s := range st {
		p.Done += s.BytesDone
		p.Total += s.BytesTotal
	}
	return p
}
