// Plans: what each migrates, its state and last migration, and the
// actions on it, each confirmed with exactly what it will do.

import { useState, type ReactNode } from "react";
import { Button, Checkbox, Form, PageSection } from "@patternfly/react-core";
import { ActionsColumn, Table, Tbody, Td, Th, Thead, Tr, type IAction } from "@patternfly/react-table";
import { del, enc, post } from "../api";
import { Confirm, Empty, Failure, Header, Loading, Phase, Ready } from "../components/common";
import { condition } from "../lib/conditions";
import { parseMappings } from "../lib/paging";
import { Link, navigate } from "../router";
import { latestMigration, useLive, useMigrations, usePlans } from "../store";
import { CredentialFields, useCredentials, useRemoteClusters, withCredentials } from "../session";
import type { Migration, Plan } from "../types";

type Kind = "Stage" | "Cutover" | "Rollback" | "Cancel" | "Retry" | "Delete";

/** running reports whether a migration still runs (neither finished nor failed). */
export const running = (m?: Migration) => !!m && !["Succeeded", "Failed", "Canceled"].includes(m.status?.phase ?? "");

function claims(p: Plan) {
  return (p.status?.persistentVolumeClaims ?? []).filter((c) => c.action !== "skip");
}

function namespaces(p: Plan) {
  return parseMappings(p.spec.namespaces ?? [])
    .map((m) => (m.source === m.target ? m.source : `${m.source} → ${m.target}`))
    .join(", ");
}

export function Plans() {
  const plans = usePlans();
  const migrations = useMigrations();
  const { store, errors } = useLive();
  const [action, setAction] = useState<{ kind: Kind; plan: Plan; migration?: Migration } | null>(null);
  const create = (
    <Button variant="primary" onClick={() => navigate("/plans/new")}>
      Create plan
    </Button>
  );
  return (
    <>
      <Header title="Plans" actions={create}>
        A plan says what to migrate from which cluster to which. Stage copies the data while the application runs; Cutover moves
        the application.
      </Header>
      <PageSection>
        <Failure error={errors.Plan} title="The plans could not be listed" />
        {!store.loaded.Plan && !errors.Plan ? (
          <Loading what="plans" />
        ) : plans.length === 0 ? (
          <Empty title="No plans yet" action={create}>
            Create a plan: choose the source and destination clusters, the namespaces (renamed if you like) and what happens to each
            volume. Register the clusters first on the Clusters page.
          </Empty>
        ) : (
          <Table aria-label="Plans">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>Type</Th>
                <Th>Source</Th>
                <Th>Destination</Th>
                <Th>Namespaces</Th>
                <Th>State</Th>
                <Th>Last migration</Th>
                <Th screenReaderText="Actions" />
              </Tr>
            </Thead>
            <Tbody>
              {plans.map((p) => {
                const m = latestMigration(migrations, p.metadata.name);
                const ready = condition(p.status?.conditions, "Ready")?.status === "True";
                const busy = running(m) || !!p.status?.activeMigration;
                const failed = m?.status?.phase === "Failed";
                const open = (kind: Kind) => () => setAction({ kind, plan: p, migration: m });
                const items: IAction[] = [
                  { title: "Rollback", onClick: open("Rollback"), isDisabled: busy },
                  { title: "Cancel the migration", onClick: open("Cancel"), isDisabled: !m || !(busy || failed) },
                  { title: "Retry the failed step", onClick: open("Retry"), isDisabled: !failed },
                  { title: "Edit", onClick: () => navigate(`/plans/${enc(p.metadata.name)}/edit`) },
                  { isSeparator: true },
                  { title: "Delete", onClick: open("Delete"), isDanger: true },
                ];
                return (
                  <Tr key={p.metadata.name}>
                    <Td dataLabel="Name">
                      <Link to={`/plans/${enc(p.metadata.name)}/edit`}>{p.metadata.name}</Link>
                    </Td>
                    <Td dataLabel="Type">{p.spec.type || "Full"}</Td>
                    <Td dataLabel="Source">{p.spec.sourceCluster}</Td>
                    <Td dataLabel="Destination">{p.spec.destinationCluster}</Td>
                    <Td dataLabel="Namespaces">{namespaces(p)}</Td>
                    <Td dataLabel="State">
                      <Ready conditions={p.status?.conditions} />
                    </Td>
                    <Td dataLabel="Last migration">
                      {m ? (
                        <Link to={`/migrations/${enc(m.metadata.name)}`}>
                          {m.spec.type} <Phase phase={m.status?.phase} />
                        </Link>
                      ) : (
                        "none yet"
                      )}
                    </Td>
                    <Td isActionCell>
                      <div style={{ display: "flex", gap: 8, alignItems: "center" }}>
                        <Button size="sm" variant="secondary" onClick={open("Stage")} isDisabled={!ready || busy} aria-label={`Stage plan ${p.metadata.name}`}>
                          Stage
                        </Button>
                        <Button size="sm" variant="primary" onClick={open("Cutover")} isDisabled={!ready || busy} aria-label={`Cutover plan ${p.metadata.name}`}>
                          Cutover
                        </Button>
                        <ActionsColumn items={items} popperProps={{ position: "right" }} actionsToggle={undefined} />
                      </div>
                    </Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        )}
      </PageSection>
      {action && <PlanAction {...action} onClose={() => setAction(null)} />}
    </>
  );
}

function PlanAction({ kind, plan, migration, onClose }: { kind: Kind; plan: Plan; migration?: Migration; onClose: () => void }) {
  const [quiesce, setQuiesce] = useState(true);
  const [creds, setCreds] = useCredentials();
  const name = plan.metadata.name;
  const src = plan.spec.sourceCluster;
  const dst = plan.spec.destinationCluster;
  const remote = useRemoteClusters([src, dst]);
  const tokens = (
    <Form style={{ marginTop: 12 }} onSubmit={(e) => e.preventDefault()}>
      <CredentialFields clusters={remote} value={creds} onChange={setCreds} />
    </Form>
  );
  const ns = namespaces(plan);
  const cs = claims(plan);
  const start = (type: string, q?: boolean) => async () => {
    const m = await post<Migration>(`/api/plans/${enc(name)}/migrations`, withCredentials(q === undefined ? { type } : { type, quiesce: q }, creds));
    if (m?.metadata?.name) navigate(`/migrations/${enc(m.metadata.name)}`);
  };
  const claimList: ReactNode =
    cs.length === 0 ? "no volume data (the plan copies no claims)" : `the data of ${cs.length} claim${cs.length > 1 ? "s" : ""} (${cs.map((c) => `${c.namespace}/${c.name}`).join(", ")})`;
  switch (kind) {
    case "Stage":
      return (
        <Confirm title={`Stage ${name}?`} confirm="Start stage" onClose={onClose} onConfirm={start("Stage")}>
          <p>
            Ferry starts a Stage migration: it copies {claimList} from <b>{src}</b> to <b>{dst}</b> while the application keeps
            running on {src}. Nothing is stopped, and no workload is created on {dst}. A later stage or the cutover copies only
            what changed since.
          </p>
          {remote.length > 0 && tokens}
        </Confirm>
      );
    case "Cutover":
      return (
        <Confirm title={`Cutover ${name}?`} confirm="Start cutover" danger onClose={onClose} onConfirm={start("Cutover", quiesce)}>
          <p>
            Ferry starts the final migration of the namespaces {ns}: {quiesce ? <>it <b>stops the application on {src}</b> (scales its workloads to zero, suspends its CronJobs, keeping the original values to restore on rollback), copies what is left of </> : <>it copies, with the application still running on {src}, </>}
            {claimList}, then creates the resources on <b>{dst}</b> and starts the application there.
          </p>
          {!quiesce && (
            <p style={{ marginTop: 8 }}>
              Without stopping the source, writes made during the copy may be missing on {dst}, and both copies of the application run
              at once.
            </p>
          )}
          <Checkbox id="quiesce" style={{ marginTop: 12 }} label={`Stop the application on the source (${src}) before the final copy`} isChecked={quiesce} onChange={(_, v) => setQuiesce(v)} />
          {remote.length > 0 && tokens}
        </Confirm>
      );
    case "Rollback":
      return (
        <Confirm title={`Roll back ${name}?`} confirm="Roll back" danger onClose={onClose} onConfirm={start("Rollback")}>
          <p>
            Ferry removes what the plan's migrations created on <b>{dst}</b> (the objects of {ns} there and their volumes' copies)
            and restores the application on <b>{src}</b> exactly as it was: replica counts, suspended CronJobs and Jobs. The data on{" "}
            {src} is not touched.
          </p>
          {remote.length > 0 && tokens}
        </Confirm>
      );
    case "Cancel":
      return (
        <Confirm
          title={`Cancel ${migration?.metadata.name}?`}
          confirm="Cancel the migration"
          danger
          onClose={onClose}
          onConfirm={() => post(`/api/migrations/${enc(migration!.metadata.name)}/cancel`)}
        >
          <p>
            The {migration?.spec.type} migration <b>{migration?.metadata.name}</b> stops at its current step, and Ferry undoes what
            it did: the application on {src} is started again as it was, and what it created on {dst} is removed.
          </p>
        </Confirm>
      );
    case "Retry": {
      const failed = migration?.status?.itinerary?.find((s) => s.phase === "Failed");
      return (
        <Confirm title={`Retry ${migration?.metadata.name}?`} confirm="Retry" onClose={onClose} onConfirm={() => post(`/api/migrations/${enc(migration!.metadata.name)}/retry`)}>
          <p>
            Ferry runs the failed step <b>{failed?.name ?? "of the migration"}</b> again (attempt {(failed?.attempts ?? 1) + 1}) and
            goes on from there; the steps that succeeded are not repeated.
          </p>
          {failed?.message && <p style={{ marginTop: 8 }}>It failed with: {failed.message}</p>}
        </Confirm>
      );
    }
    case "Delete":
      return (
        <Confirm title={`Delete ${name}?`} confirm="Delete" danger onClose={onClose} onConfirm={() => del(`/api/plans/${enc(name)}`)}>
          <p>
            Ferry deletes the plan and its migrations. A migration that has not finished (running or failed) is canceled first,
            which undoes what it did on both clusters. A cutover that succeeded is kept as it is: the application stays on {dst}.
            To undo a cutover, roll back before deleting.
          </p>
        </Confirm>
      );
  }
}
