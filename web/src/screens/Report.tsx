// A migration's report: steps and their timings, objects by kind and
// action with reasons, volumes, images; as a page and as JSON.

import { useEffect, useState } from "react";
import { Card, CardBody, CardTitle, PageSection } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { enc, get } from "../api";
import { Empty, Failure, Header, Loading, Phase } from "../components/common";
import { bytes, duration, time } from "../lib/format";
import { Link } from "../router";
import type { Report } from "../types";

const actions = ["created", "updated", "unchanged", "skipped", "failed", "deleted"] as const;

export default function ReportPage({ name }: { name: string }) {
  const [r, setR] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Report>(`/api/migrations/${enc(name)}/report`).then(setR, (e: Error) => setError(e.message));
  }, [name]);
  const download = (
    <a className="pf-v6-c-button pf-m-secondary" href={`/api/migrations/${enc(name)}/report?download=1`} download={`${name}-report.json`}>
      Download JSON
    </a>
  );
  if (error) return <PageSection><Failure error={error} title="The report could not be made" /></PageSection>;
  if (!r) return <Loading what="the report" />;
  const total = r.steps.reduce((a, s) => a + (s.seconds ?? 0), 0);
  return (
    <>
      <Header title={`Report of ${name}`} actions={<>{download}<Link to={`/migrations/${enc(name)}`} className="pf-v6-c-button pf-m-link">Back to the migration</Link></>}>
        {r.type} of plan {r.plan}: <Phase phase={r.phase} />, started {time(r.started)}, ended {time(r.completed)}
        {r.downtimeSeconds !== undefined && r.downtimeSeconds !== null && <>; the application was down for {duration(r.downtimeSeconds)}</>}.
        {(r.errors ?? []).length > 0 && <Failure error={(r.errors ?? []).join("; ")} title="Errors of the last failed attempt" />}
      </Header>
      <PageSection>
        <Card>
          <CardTitle><h2>Steps</h2></CardTitle>
          <CardBody>
            <Table aria-label="Step timings" variant="compact">
              <Thead><Tr><Th>Step</Th><Th>Phase</Th><Th>Took</Th><Th>Share</Th><Th>Attempts</Th><Th>Message</Th></Tr></Thead>
              <Tbody>
                {r.steps.map((s, i) => (
                  <Tr key={s.name + i}>
                    <Td dataLabel="Step">{s.name}</Td>
                    <Td dataLabel="Phase"><Phase phase={s.phase} /></Td>
                    <Td dataLabel="Took">{duration(s.seconds)}</Td>
                    <Td dataLabel="Share">{total > 0 && s.seconds ? `${Math.round((s.seconds / total) * 100)}%` : "–"}</Td>
                    <Td dataLabel="Attempts">{s.attempts ?? 0}</Td>
                    <Td dataLabel="Message">{s.message ?? ""}</Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Card>
          <CardTitle><h2>Objects by kind and action</h2></CardTitle>
          <CardBody>
            {!(r.results ?? []).length ? (
              <Empty title="No objects">This migration applied no objects (a Stage copies data only).</Empty>
            ) : (
              <Table aria-label="Objects by kind" variant="compact">
                <Thead><Tr><Th>Kind</Th>{actions.map((a) => <Th key={a}>{a[0].toUpperCase() + a.slice(1)}</Th>)}</Tr></Thead>
                <Tbody>
                  {(r.results ?? []).map((k) => (
                    <Tr key={k.kind}>
                      <Td dataLabel="Kind">{k.kind}</Td>
                      {actions.map((a) => <Td key={a} dataLabel={a}>{k[a] ?? 0}</Td>)}
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            )}
            {(r.objects ?? []).length > 0 && (
              <>
                <h3 style={{ marginTop: 16 }}>Skipped and failed objects</h3>
                <Table aria-label="Skipped and failed objects" variant="compact">
                  <Thead><Tr><Th>Action</Th><Th>Kind</Th><Th>Object</Th><Th>Reason</Th></Tr></Thead>
                  <Tbody>
                    {(r.objects ?? []).map((o, i) => (
                      <Tr key={i}>
                        <Td dataLabel="Action">{o.action}</Td>
                        <Td dataLabel="Kind">{o.kind}</Td>
                        <Td dataLabel="Object">{o.namespace ? `${o.namespace}/${o.name}` : o.name}</Td>
                        <Td dataLabel="Reason">{o.reason ?? ""}</Td>
                      </Tr>
                    ))}
                  </Tbody>
                </Table>
              </>
            )}
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Card>
          <CardTitle><h2>Volumes</h2></CardTitle>
          <CardBody>
            {!(r.volumes ?? []).length ? (
              <Empty title="No volumes">This migration copied no volume data.</Empty>
            ) : (
              <Table aria-label="Volumes" variant="compact">
                <Thead><Tr><Th>Claim</Th><Th>Target</Th><Th>Phase</Th><Th>Bytes</Th><Th>Sent</Th><Th>Files</Th><Th>Checksums</Th></Tr></Thead>
                <Tbody>
                  {(r.volumes ?? []).map((v) => (
                    <Tr key={`${v.namespace}/${v.claim}`}>
                      <Td dataLabel="Claim">{v.namespace}/{v.claim}</Td>
                      <Td dataLabel="Target">{v.targetNamespace}/{v.targetClaim}</Td>
                      <Td dataLabel="Phase"><Phase phase={v.phase} /></Td>
                      <Td dataLabel="Bytes">{bytes(v.bytesDone)} of {bytes(v.bytesTotal)}</Td>
                      <Td dataLabel="Sent">{bytes(v.bytesSent)}</Td>
                      <Td dataLabel="Files">{v.filesDone ?? 0} of {v.filesTotal ?? 0}{v.filesSkipped ? `, ${v.filesSkipped} unchanged` : ""}</Td>
                      <Td dataLabel="Checksums">{v.verified ? "verified: every file's BLAKE3 checksum matched" : "not verified (the plan did not ask for it, or not a final copy)"}</Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            )}
          </CardBody>
        </Card>
      </PageSection>
      {(r.images ?? []).length > 0 && (
        <PageSection>
          <Card>
            <CardTitle><h2>Images</h2></CardTitle>
            <CardBody>
              <Table aria-label="Images" variant="compact">
                <Thead><Tr><Th>Source</Th><Th>Destination</Th><Th>Phase</Th><Th>Digest</Th><Th>Bytes sent</Th></Tr></Thead>
                <Tbody>
                  {(r.images ?? []).map((im) => (
                    <Tr key={im.source}>
                      <Td dataLabel="Source">{im.source}</Td>
                      <Td dataLabel="Destination">{im.destination}</Td>
                      <Td dataLabel="Phase"><Phase phase={im.phase} /></Td>
                      <Td dataLabel="Digest"><code>{im.digest ?? "–"}</code></Td>
                      <Td dataLabel="Bytes sent">{bytes(im.bytesSent)} of {bytes(im.bytesTotal)}</Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            </CardBody>
          </Card>
        </PageSection>
      )}
    </>
  );
}
