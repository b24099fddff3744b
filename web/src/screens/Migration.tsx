// A migration as it runs: the timeline of its steps, the volume copies
// with rate, ETA and throughput, the images, the hooks' logs, and for a
// failed step its error with Retry and Cancel.

import { useEffect, useState } from "react";
import {
  Alert,
  AlertActionLink,
  Button,
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  ExpandableSection,
  PageSection,
  Progress,
  ProgressMeasureLocation,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { enc, get, post } from "../api";
import { Confirm, Empty, Failure, Header, Loading, Phase } from "../components/common";
import { ThroughputPlot } from "../components/Plot";
import { Timeline } from "../components/Timeline";
import { bytes, duration, percent, time } from "../lib/format";
import { eta, rate, throughput, volumeKey } from "../lib/rate";
import { useNow } from "../lib/useNow";
import { Link } from "../router";
import { useLive } from "../store";
import type { Migration, Step } from "../types";

export default function MigrationPage({ name }: { name: string }) {
  const { store, samples } = useLive();
  const [fetched, setFetched] = useState<Migration | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ask, setAsk] = useState<"cancel" | "retry" | null>(null);
  const live = store.objects.Migration[name] as Migration | undefined;
  useEffect(() => {
    if (live || fetched) return;
    get<Migration>(`/api/migrations/${enc(name)}`).then(setFetched, (e: Error) => setError(e.message));
  }, [name, live, fetched]);
  const m = live ?? fetched;
  const phase = m?.status?.phase;
  const active = !!m && phase !== "Succeeded" && phase !== "Failed" && phase !== "Canceled";
  const now = useNow(active);
  if (error) return <PageSection><Failure error={error} title={`The migration ${name} could not be read`} /></PageSection>;
  if (!m) return <Loading what="the migration" />;
  const st = m.status ?? {};
  const steps = st.itinerary ?? [];
  const failed = steps.find((s) => s.phase === "Failed");
  const start = st.startTime ? new Date(st.startTime).getTime() : NaN;
  const end = st.completionTime ? new Date(st.completionTime).getTime() : now;
  const downtime = st.sourceStopped && st.destinationAvailable ? (new Date(st.destinationAvailable).getTime() - new Date(st.sourceStopped).getTime()) / 1000 : null;
  const mySamples = samples[name] ?? {};
  const hookSteps = steps.filter((s) => s.hook || (s.log && s.log.length));
  return (
    <>
      <Header
        title={`Migration ${name}`}
        actions={
          <>
            <Link to={`/migrations/${enc(name)}/debug`} className="pf-v6-c-button pf-m-secondary">
              Debug view
            </Link>
            <Link to={`/migrations/${enc(name)}/report`} className="pf-v6-c-button pf-m-secondary">
              Report
            </Link>
            {(active || phase === "Failed") && (
              <Button variant="danger" onClick={() => setAsk("cancel")}>
                Cancel migration
              </Button>
            )}
          </>
        }
      >
        <DescriptionList isHorizontal isCompact columnModifier={{ default: "3Col" }}>
          <Item term="Plan"><Link to="/plans">{m.spec.plan}</Link></Item>
          <Item term="Type">{m.spec.type}{m.spec.type === "Cutover" && (m.spec.quiesce === false ? " (source kept running)" : " (source stopped)")}</Item>
          <Item term="Phase"><Phase phase={phase} /></Item>
          <Item term="Started">{time(st.startTime)}</Item>
          <Item term="Duration">{isNaN(start) ? "–" : duration((end - start) / 1000)}</Item>
          <Item term="Downtime">{downtime === null ? (m.spec.type === "Cutover" ? (st.sourceStopped ? "running" : "not yet") : "none (the application keeps running)") : duration(downtime)}</Item>
        </DescriptionList>
      </Header>
      {failed && (
        <PageSection>
          <Alert
            variant="danger"
            title={`Step ${failed.name} failed${failed.attempts ? ` (attempt ${failed.attempts})` : ""}`}
            actionLinks={
              <>
                <AlertActionLink onClick={() => setAsk("retry")}>Retry</AlertActionLink>
                <AlertActionLink onClick={() => setAsk("cancel")}>Cancel</AlertActionLink>
              </>
            }
          >
            <p>{failed.message}</p>
            {(st.errors ?? []).map((e, i) => (
              <p key={i}>{e}</p>
            ))}
            <p style={{ marginTop: 8 }}>Fix what the message names, then Retry runs the step again; Cancel undoes the migration.</p>
          </Alert>
        </PageSection>
      )}
      <PageSection>
        <Card>
          <CardTitle><h2>Where the time went</h2></CardTitle>
          <CardBody>
            {steps.length === 0 ? (
              <Empty title="No steps yet">The controller writes the itinerary when it picks the migration up; this page updates by itself.</Empty>
            ) : (
              <Timeline steps={steps} now={now} />
            )}
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Card>
          <CardTitle><h2>Steps</h2></CardTitle>
          <CardBody>
            <Steps steps={steps} now={now} />
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Card>
          <CardTitle><h2>Volumes</h2></CardTitle>
          <CardBody>
            {(st.volumes ?? []).length === 0 ? (
              <Empty title="No volume copies">{m.spec.type === "Rollback" ? "A rollback copies no data." : "The volumes show here once the copy step starts, or the plan copies no claims."}</Empty>
            ) : (
              <>
                {(st.volumes ?? []).map((v) => {
                  const s = mySamples[volumeKey(v)] ?? [];
                  const r = v.phase === "Running" ? rate(s) : null;
                  const left = v.phase === "Running" ? eta(v.bytesDone ?? 0, v.bytesTotal ?? 0, r) : null;
                  const label = `${v.namespace}/${v.claim} → ${v.targetNamespace}/${v.targetClaim}`;
                  return (
                    <div key={volumeKey(v)} style={{ marginBottom: 16 }}>
                      <Progress
                        title={label}
                        value={v.phase === "Succeeded" ? 100 : percent(v.bytesDone, v.bytesTotal)}
                        measureLocation={ProgressMeasureLocation.outside}
                        variant={v.phase === "Failed" ? "danger" : v.phase === "Succeeded" ? "success" : undefined}
                        helperText={
                          <span>
                            <Phase phase={v.phase} /> {bytes(v.bytesDone)} of {bytes(v.bytesTotal)} · {v.filesDone ?? 0} of {v.filesTotal ?? 0} files
                            {r !== null && ` · ${bytes(r)}/s`}
                            {left !== null && ` · ${duration(left)} left`}
                            {v.attempt && v.attempt > 1 ? ` · attempt ${v.attempt}` : ""}
                            {v.bytesSent !== undefined && ` · ${bytes(v.bytesSent)} sent`}
                            {v.message && ` · ${v.message}`}
                          </span>
                        }
                        aria-label={`Copy of ${label}`}
                      />
                    </div>
                  );
                })}
                <h3 style={{ marginTop: 16 }}>Throughput</h3>
                <ThroughputPlot series={(st.volumes ?? []).map((v) => ({ name: `${v.namespace}/${v.claim}`, points: throughput(mySamples[volumeKey(v)] ?? []) }))} />
              </>
            )}
          </CardBody>
        </Card>
      </PageSection>
      {(st.images ?? []).length > 0 && (
        <PageSection>
          <Card>
            <CardTitle><h2>Images</h2></CardTitle>
            <CardBody>
              {(st.images ?? []).map((im) => (
                <div key={im.source} style={{ marginBottom: 16 }}>
                  <Progress
                    title={`${im.source} → ${im.destination}`}
                    value={im.phase === "Succeeded" ? 100 : percent(im.bytesDone, im.bytesTotal)}
                    measureLocation={ProgressMeasureLocation.outside}
                    variant={im.phase === "Failed" ? "danger" : im.phase === "Succeeded" ? "success" : undefined}
                    helperText={
                      <span>
                        <Phase phase={im.phase} /> {im.layersDone ?? 0} of {im.layersTotal ?? 0} layers · {bytes(im.bytesDone)} of {bytes(im.bytesTotal)}
                        {im.bytesSent !== undefined && ` · ${bytes(im.bytesSent)} sent`}
                        {im.digest && ` · ${im.digest}`}
                        {im.message && ` · ${im.message}`}
                      </span>
                    }
                    aria-label={`Copy of ${im.source}`}
                  />
                </div>
              ))}
            </CardBody>
          </Card>
        </PageSection>
      )}
      {hookSteps.length > 0 && (
        <PageSection>
          <Card>
            <CardTitle><h2>Hook and step logs</h2></CardTitle>
            <CardBody>
              {hookSteps.map((s, i) => (
                <ExpandableSection key={s.name + i} toggleText={`${s.name}${s.hook ? ` (hook ${s.hook.hook}, ${s.hook.phase})` : ""}: ${s.phase}`} isIndented>
                  <pre className="ferry-pre" tabIndex={0}>{(s.log ?? []).join("\n") || "No output."}</pre>
                </ExpandableSection>
              ))}
            </CardBody>
          </Card>
        </PageSection>
      )}
      {ask === "cancel" && (
        <Confirm title={`Cancel ${name}?`} confirm="Cancel the migration" danger onClose={() => setAsk(null)} onConfirm={() => post(`/api/migrations/${enc(name)}/cancel`)}>
          <p>
            The migration stops at its current step{failed ? ` (${failed.name}, failed)` : ""} and Ferry undoes what it did: the
            application on the source is started again as it was, and what the migration created on the destination is removed.
          </p>
        </Confirm>
      )}
      {ask === "retry" && (
        <Confirm title={`Retry ${failed?.name ?? "the failed step"}?`} confirm="Retry" onClose={() => setAsk(null)} onConfirm={() => post(`/api/migrations/${enc(name)}/retry`)}>
          <p>
            Ferry runs the step {failed?.name} again (attempt {(failed?.attempts ?? 1) + 1}) and goes on from there; the steps that
            succeeded are not repeated.
          </p>
        </Confirm>
      )}
    </>
  );
}

function Item({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

function Steps({ steps, now }: { steps: Step[]; now: number }) {
  return (
    <Table aria-label="Steps" variant="compact">
      <Thead>
        <Tr>
          <Th>Step</Th>
          <Th>Phase</Th>
          <Th>Attempts</Th>
          <Th>Took</Th>
          <Th>Progress</Th>
          <Th>Message</Th>
        </Tr>
      </Thead>
      <Tbody>
        {steps.map((s, i) => {
          const a = s.started ? new Date(s.started).getTime() : NaN;
          const b = s.completed ? new Date(s.completed).getTime() : s.phase === "Running" ? now : NaN;
          return (
            <Tr key={s.name + i} isRowSelected={s.phase === "Running" || s.phase === "Failed"}>
              <Td dataLabel="Step">{s.name}</Td>
              <Td dataLabel="Phase"><Phase phase={s.phase} /></Td>
              <Td dataLabel="Attempts">{s.attempts ?? 0}</Td>
              <Td dataLabel="Took">{isNaN(a) || isNaN(b) ? "–" : duration((b - a) / 1000)}</Td>
              <Td dataLabel="Progress">{s.progress ? `${s.progress.done} of ${s.progress.total} ${s.progress.unit}` : "–"}</Td>
              <Td dataLabel="Message">{s.message ?? ""}</Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}
