// The plan wizard: General → Namespaces → Volumes → Hooks → Review. The
// input lives here, above the steps, so going back and forth keeps it;
// the plan is saved (created, then replaced) when a step needs the
// server's view of it (its claims, its review).

import { useCallback, useEffect, useRef, useState } from "react";
import {
  Alert,
  Button,
  Checkbox,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  PageSection,
  Pagination,
  SearchInput,
  TextInput,
  Title,
  Wizard,
  WizardHeader,
  WizardStep,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { ApiError, enc, get, post, put } from "../api";
import { Empty, Failure, Hint, Loading } from "../components/common";
import { bytes, time } from "../lib/format";
import { newer } from "../lib/events";
import { namespacesQuery } from "../lib/paging";
import { claimKey, draftOf, emptyDraft, generalErrors, namespaceErrors, setOverride, specOf, type Draft } from "../lib/planspec";
import { navigate } from "../router";
import { CredentialFields, useCredentials, useRemoteClusters, withCredentials, type Credentials } from "../session";
import { useClusters, useHooks, useLive, useRepositories } from "../store";
import { hookPhases, type NamespacePage, type Plan, type PlanHook, type PVCAction, type Review } from "../types";

const accessModes = ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"];

export default function PlanWizard({ name }: { name?: string }) {
  const [draft, setDraft] = useState<Draft | null>(name ? null : emptyDraft());
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saved, setSaved] = useState<{ spec: string; plan: Plan } | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const saving = useRef<Promise<Plan | null> | null>(null);
  const [creds, setCreds] = useCredentials();
  const { store } = useLive();

  useEffect(() => {
    if (!name) return;
    get<Plan>(`/api/plans/${enc(name)}`)
      .then((p) => {
        const d = draftOf(p.metadata.name, p.spec);
        setDraft(d);
        setSaved({ spec: JSON.stringify(specOf(d)), plan: p });
      })
      .catch((e: Error) => setLoadError(e.message));
  }, [name]);

  /** save creates or replaces the plan when the draft changed since the last save. */
  const save = useCallback(async (): Promise<Plan | null> => {
    if (!draft) return null;
    const spec = specOf(draft);
    const json = JSON.stringify(spec);
    if (saved && saved.spec === json) return saved.plan;
    if (saving.current) await saving.current;
    const run = (async () => {
      setSaveError(null);
      try {
        const plan = saved
          ? await put<Plan>(`/api/plans/${enc(draft.name)}`, withCredentials({ spec }, creds))
          : await post<Plan>("/api/plans", withCredentials({ name: draft.name, spec }, creds));
        setSaved({ spec: json, plan });
        return plan;
      } catch (e) {
        setSaveError((e as Error).message);
        return null;
      } finally {
        saving.current = null;
      }
    })();
    saving.current = run;
    return run;
  }, [draft, saved, creds]);

  if (loadError) return <PageSection><Failure error={loadError} title={`The plan ${name} could not be read`} /></PageSection>;
  if (!draft) return <Loading what="the plan" />;

  // The live copy of the saved plan: its status follows validation.
  const streamed = saved ? (store.objects.Plan[saved.plan.metadata.name] as Plan | undefined) : undefined;
  const live = saved ? (streamed && newer(streamed, saved.plan) ? streamed : saved.plan) : null;
  const gErr = generalErrors(draft);
  const nErr = namespaceErrors(draft);
  const generalOK = Object.keys(gErr).length === 0;
  const nsOK = Object.keys(nErr).length === 0;
  const finish = async () => {
    const p = await save();
    if (p) navigate("/plans");
  };
  return (
    <PageSection isFilled type="wizard" aria-label="Plan wizard">
      <Wizard
        height="100%"
        header={<WizardHeader title={name ? `Edit plan ${name}` : "Create a plan"} description="What to migrate, from where to where." onClose={() => navigate("/plans")} closeButtonAriaLabel="Close the wizard" />}
        onClose={() => navigate("/plans")}
        onSave={finish}
      >
        <WizardStep name="General" id="general" footer={{ isNextDisabled: !generalOK }}>
          <General draft={draft} setDraft={setDraft} errors={gErr} locked={!!saved} creds={creds} setCreds={setCreds} />
        </WizardStep>
        <WizardStep name="Namespaces" id="namespaces" isDisabled={!generalOK} footer={{ isNextDisabled: !nsOK }}>
          <Namespaces draft={draft} setDraft={setDraft} errors={nErr} />
        </WizardStep>
        <WizardStep name="Volumes" id="volumes" isDisabled={!generalOK || !nsOK}>
          <Saved save={save} error={saveError}>
            <Volumes draft={draft} setDraft={setDraft} plan={live} />
          </Saved>
        </WizardStep>
        <WizardStep name="Hooks" id="hooks" isDisabled={!generalOK || !nsOK}>
          <Hooks draft={draft} setDraft={setDraft} />
        </WizardStep>
        <WizardStep name="Review" id="review" isDisabled={!generalOK || !nsOK} footer={{ nextButtonText: "Save plan" }}>
          <Saved save={save} error={saveError}>
            <ReviewStep plan={live} />
          </Saved>
        </WizardStep>
      </Wizard>
    </PageSection>
  );
}

type SetDraft = (f: (d: Draft | null) => Draft | null) => void;
const update = (setDraft: SetDraft, f: (d: Draft) => Draft) => setDraft((d) => (d ? f(d) : d));

/** Saved saves the plan when its step opens and shows the step once the server has it. */
function Saved({ save, error, children }: { save: () => Promise<Plan | null>; error: string | null; children: React.ReactNode }) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let live = true;
    save().then((p) => live && setReady(!!p));
    return () => {
      live = false;
    };
    // Saving once per opening of the step: later edits are saved by the next step.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (error) return <Failure error={error} title="The plan could not be saved; go back and change what the message names" />;
  if (!ready) return <Loading what="the plan's validation" />;
  return <>{children}</>;
}

function General({ draft, setDraft, errors, locked, creds, setCreds }: { draft: Draft; setDraft: SetDraft; errors: Record<string, string>; locked: boolean; creds: Credentials; setCreds: (c: Credentials) => void }) {
  const remote = useRemoteClusters([draft.source, draft.type === "StorageConversion" ? "" : draft.destination]);
  const clusters = useClusters();
  const repos = useRepositories();
  const { store } = useLive();
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => update(setDraft, (d) => ({ ...d, [k]: v }));
  const shown = (k: string) => (k === "name" ? draft.name !== "" : true) && errors[k];
  if (store.loaded.Cluster && clusters.length === 0)
    return (
      <Empty title="No clusters to migrate between" action={<Button variant="link" onClick={() => navigate("/clusters")}>Add a cluster</Button>}>
        A plan needs a source and a destination cluster. Add them on the Clusters page first.
      </Empty>
    );
  const clusterOptions = [<FormSelectOption key="" value="" label="Choose a cluster" isPlaceholder />].concat(
    clusters.map((c) => <FormSelectOption key={c.metadata.name} value={c.metadata.name} label={c.metadata.name} />),
  );
  return (
    <Form onSubmit={(e) => e.preventDefault()}>
      <Title headingLevel="h2">General</Title>
      <FormGroup label="Name" isRequired fieldId="p-name">
        <TextInput id="p-name" value={draft.name} onChange={(_, v) => set("name", v)} isDisabled={locked} validated={shown("name") ? "error" : "default"} isRequired />
        {shown("name") ? <Hint text={errors.name} error /> : locked && <Hint text="A saved plan keeps its name." />}
      </FormGroup>
      <FormGroup label="Type" fieldId="p-type" role="radiogroup" isStack>
        {(
          [
            ["Full", "Full: the namespaces' resources and their volumes' data"],
            ["State", "State: only the data of chosen claims, into claims that may exist already (GitOps deploys the rest)"],
            ["StorageConversion", "Storage conversion: claims onto another storage class, within one cluster and namespace"],
          ] as const
        ).map(([t, label]) => (
          <label key={t} style={{ display: "flex", gap: 8 }}>
            <input type="radio" name="p-type" value={t} checked={draft.type === t} onChange={() => set("type", t)} />
            {label}
          </label>
        ))}
      </FormGroup>
      <FormGroup label={draft.type === "StorageConversion" ? "Cluster" : "Source cluster"} isRequired fieldId="p-src">
        <FormSelect id="p-src" value={draft.source} onChange={(_, v) => set("source", v)} validated={draft.source === "" ? "default" : errors.source ? "error" : "default"}>
          {clusterOptions}
        </FormSelect>
      </FormGroup>
      {draft.type !== "StorageConversion" && (
        <FormGroup label="Destination cluster" isRequired fieldId="p-dst">
          <FormSelect id="p-dst" value={draft.destination} onChange={(_, v) => set("destination", v)}>
            {clusterOptions}
          </FormSelect>
          {draft.source && draft.source === draft.destination && <Hint text="Within one cluster each namespace gets a new name in the next step." />}
        </FormGroup>
      )}
      <FormGroup label="Data path" fieldId="p-path">
        <FormSelect id="p-path" value={draft.dataPath} onChange={(_, v) => set("dataPath", v as Draft["dataPath"])}>
          <FormSelectOption value="" label="Direct: cluster to cluster (fastest)" />
          <FormSelectOption value="repository" label="Through a replication repository" isDisabled={repos.length === 0} />
        </FormSelect>
        {repos.length === 0 && <Hint text="Add a repository on the Repositories page to copy through object storage." />}
      </FormGroup>
      <CredentialFields clusters={remote} value={creds} onChange={setCreds} />
      {draft.dataPath === "repository" && (
        <FormGroup label="Repository" isRequired fieldId="p-repo">
          <FormSelect id="p-repo" value={draft.repository} onChange={(_, v) => set("repository", v)}>
            <FormSelectOption value="" label="Choose a repository" isPlaceholder />
            {repos.map((r) => (
              <FormSelectOption key={r.metadata.name} value={r.metadata.name} label={r.metadata.name} />
            ))}
          </FormSelect>
        </FormGroup>
      )}
    </Form>
  );
}

function Namespaces({ draft, setDraft, errors }: { draft: Draft; setDraft: SetDraft; errors: Record<string, string> }) {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(20);
  const [data, setData] = useState<NamespacePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const t = setTimeout(() => {
      setQuery(search);
      setPage(1);
    }, 250);
    return () => clearTimeout(t);
  }, [search]);

  useEffect(() => {
    let live = true;
    setBusy(true);
    get<NamespacePage>(`/api/clusters/${enc(draft.source)}/namespaces?${namespacesQuery(query, page, perPage)}`)
      .then((r) => live && (setData(r), setError(null)))
      .catch((e: Error) => live && setError(e.message))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [draft.source, query, page, perPage]);

  const chosen = new Set(draft.namespaces.map((m) => m.source));
  const toggle = (ns: string, on: boolean) =>
    update(setDraft, (d) => ({
      ...d,
      namespaces: on ? [...d.namespaces, { source: ns, target: ns }] : d.namespaces.filter((m) => m.source !== ns),
    }));
  const rename = (ns: string, target: string) =>
    update(setDraft, (d) => ({ ...d, namespaces: d.namespaces.map((m) => (m.source === ns ? { ...m, target } : m)) }));
  const renamable = draft.type !== "StorageConversion";
  return (
    <>
      <Title headingLevel="h2">Namespaces on {draft.source}</Title>
      <div style={{ display: "flex", gap: 16, alignItems: "center", margin: "16px 0", flexWrap: "wrap" }}>
        <SearchInput aria-label="Search namespaces" placeholder="Search namespaces by name" value={search} onChange={(_, v) => setSearch(v)} onClear={() => setSearch("")} style={{ minWidth: 300 }} />
        <Pagination
          itemCount={data?.total ?? 0}
          page={page}
          perPage={perPage}
          onSetPage={(_, p) => setPage(p)}
          onPerPageSelect={(_, pp) => (setPerPage(pp), setPage(1))}
          perPageOptions={[10, 20, 50, 100].map((n) => ({ title: String(n), value: n }))}
          isCompact
          titles={{ paginationAriaLabel: "Namespace pages" }}
        />
      </div>
      <Failure error={error} title="The namespaces could not be listed" />
      {data?.forbidden && <Hint text={data.forbidden} />}
      {data && data.items.length === 0 && !busy ? (
        data.forbidden ? (
          <Empty title={query ? `You have no namespace “${query}” on ${draft.source}` : "Type the name of a namespace of yours"}>
            {query ? "Check the name: it must be exact, and a namespace you may read." : "The search box takes the exact name of a namespace you are admin of."}
          </Empty>
        ) : (
          <Empty title={query ? `No namespace matches “${query}”` : "The cluster has no namespaces Ferry may migrate"}>
            {query ? "Search for another part of the name, or clear the search." : "Check the source cluster's state on the Clusters page."}
          </Empty>
        )
      ) : (
        <Table aria-label="Namespaces of the source" variant="compact" aria-busy={busy}>
          <Thead>
            <Tr>
              <Th screenReaderText="Chosen" />
              <Th>Namespace</Th>
              <Th>Phase</Th>
              <Th>Claims</Th>
            </Tr>
          </Thead>
          <Tbody>
            {(data?.items ?? []).map((n, i) => (
              <Tr key={n.name}>
                <Td select={{ rowIndex: i, isSelected: chosen.has(n.name), onSelect: (_, on) => toggle(n.name, on), isDisabled: n.phase === "Terminating" }} />
                <Td dataLabel="Namespace">{n.name}</Td>
                <Td dataLabel="Phase">{n.phase}</Td>
                <Td dataLabel="Claims">{n.claims}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      <Title headingLevel="h3" style={{ marginTop: 24 }}>
        Chosen ({draft.namespaces.length})
      </Title>
      {errors[""] && <Hint text={errors[""]} error />}
      {draft.namespaces.length > 0 && (
        <Table aria-label="Chosen namespaces" variant="compact">
          <Thead>
            <Tr>
              <Th>Source</Th>
              <Th>{renamable ? "Name on the destination" : "Namespace"}</Th>
              <Th screenReaderText="Remove" />
            </Tr>
          </Thead>
          <Tbody>
            {draft.namespaces.map((m) => (
              <Tr key={m.source}>
                <Td dataLabel="Source">{m.source}</Td>
                <Td dataLabel="Destination">
                  {renamable ? (
                    <>
                      <TextInput aria-label={`Name of ${m.source} on the destination`} value={m.target} onChange={(_, v) => rename(m.source, v)} validated={errors[m.source] ? "error" : "default"} />
                      {errors[m.source] && <Hint text={errors[m.source]} error />}
                    </>
                  ) : (
                    m.source
                  )}
                </Td>
                <Td isActionCell>
                  <Button variant="link" onClick={() => toggle(m.source, false)} aria-label={`Remove ${m.source}`}>
                    Remove
                  </Button>
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
    </>
  );
}

function Volumes({ draft, setDraft, plan }: { draft: Draft; setDraft: SetDraft; plan: Plan | null }) {
  const clusters = useClusters();
  const dst = clusters.find((c) => c.metadata.name === (draft.type === "StorageConversion" ? draft.source : draft.destination));
  const classes = dst?.status?.storageClasses ?? [];
  const pvcs = plan?.status?.persistentVolumeClaims ?? [];
  const ov = (ns: string, n: string) => draft.overrides[claimKey(ns, n)] ?? { namespace: ns, name: n };
  const set = (ns: string, n: string, field: Parameters<typeof setOverride>[3], v: unknown) =>
    update(setDraft, (d) => setOverride(d, ns, n, field, v as never));
  const actions: PVCAction[] = draft.type === "StorageConversion" ? ["copy", "skip"] : ["copy", "move", "skip"];
  return (
    <>
      <Title headingLevel="h2">Volumes</Title>
      <Checkbox
        id="autoresize"
        style={{ margin: "12px 0" }}
        label="Size each copied claim by its measured usage (the proposed capacity), unless a capacity is set below"
        isChecked={draft.autoResize}
        onChange={(_, v) => update(setDraft, (d) => ({ ...d, autoResize: v }))}
      />
      {pvcs.length === 0 ? (
        <Empty title="No persistent volume claims">
          The chosen namespaces have no claims on {draft.source}: only their resources are migrated. Go back to choose other
          namespaces, or go on.
        </Empty>
      ) : (
        <Table aria-label="Claims" variant="compact" className="ferry-volumes">
          <Thead>
            <Tr>
              <Th>Claim</Th>
              <Th>Source</Th>
              <Th>Used</Th>
              <Th>Action</Th>
              <Th>Target name</Th>
              <Th>Storage class</Th>
              <Th>Access mode</Th>
              <Th>Capacity</Th>
              {draft.type === "State" && <Th>Exists on the destination</Th>}
              <Th>Verify</Th>
            </Tr>
          </Thead>
          <Tbody>
            {pvcs.map((c) => {
              const o = ov(c.namespace, c.name);
              const id = `${c.namespace}-${c.name}`;
              const skip = (o.action ?? c.action) === "skip";
              const usage = c.usage;
              return (
                <Tr key={id}>
                  <Td dataLabel="Claim">
                    {c.namespace}/{c.name}
                  </Td>
                  <Td dataLabel="Source">
                    {c.capacity ?? "–"}, {c.storageClass || "no class"}, {(c.accessModes ?? []).join(", ")}
                  </Td>
                  <Td dataLabel="Used">
                    {usage?.usedBytes !== undefined ? (
                      <span title={`measured ${time(usage.measuredAt)} by ${usage.method}`}>
                        {bytes(usage.usedBytes)}
                        {usage.usedInodes !== undefined && `, ${usage.usedInodes} files`}
                      </span>
                    ) : usage?.unknown ? (
                      <span title={usage.unknown}>unknown</span>
                    ) : (
                      "measuring…"
                    )}
                  </Td>
                  <Td dataLabel="Action">
                    <FormSelect aria-label={`Action for ${c.namespace}/${c.name}`} value={o.action ?? c.action} onChange={(_, v) => set(c.namespace, c.name, "action", v === "copy" && !o.action && c.action === "copy" ? undefined : v)}>
                      {actions.map((a) => (
                        <FormSelectOption key={a} value={a} label={a} />
                      ))}
                    </FormSelect>
                  </Td>
                  <Td dataLabel="Target name">
                    <TextInput aria-label={`Target name of ${c.namespace}/${c.name}`} value={o.targetName ?? ""} placeholder={c.targetName || c.name} onChange={(_, v) => set(c.namespace, c.name, "targetName", v)} isDisabled={skip} />
                  </Td>
                  <Td dataLabel="Storage class">
                    <FormSelect aria-label={`Storage class of ${c.namespace}/${c.name}`} value={o.targetStorageClass ?? ""} onChange={(_, v) => set(c.namespace, c.name, "targetStorageClass", v)} isDisabled={skip}>
                      <FormSelectOption value="" label={`as planned (${c.targetStorageClass || "default"})`} />
                      {classes.map((s) => (
                        <FormSelectOption key={s.name} value={s.name} label={s.name + (s.default ? " (default)" : "")} />
                      ))}
                    </FormSelect>
                  </Td>
                  <Td dataLabel="Access mode">
                    <FormSelect aria-label={`Access mode of ${c.namespace}/${c.name}`} value={o.targetAccessModes?.[0] ?? ""} onChange={(_, v) => set(c.namespace, c.name, "targetAccessModes", v ? [v] : undefined)} isDisabled={skip}>
                      <FormSelectOption value="" label={`as the source (${(c.accessModes ?? []).join(", ") || "–"})`} />
                      {accessModes.map((m) => (
                        <FormSelectOption key={m} value={m} label={m} />
                      ))}
                    </FormSelect>
                  </Td>
                  <Td dataLabel="Capacity">
                    <TextInput aria-label={`Capacity of ${c.namespace}/${c.name}`} value={o.targetCapacity ?? ""} placeholder={c.targetCapacity || c.capacity || ""} onChange={(_, v) => set(c.namespace, c.name, "targetCapacity", v.trim())} isDisabled={skip} />
                    {c.proposedCapacity && (
                      <Hint
                        text={
                          <>
                            proposed {c.proposedCapacity}{" "}
                            {o.targetCapacity !== c.proposedCapacity && !skip && (
                              <Button variant="link" isInline onClick={() => set(c.namespace, c.name, "targetCapacity", c.proposedCapacity)}>
                                use it
                              </Button>
                            )}
                          </>
                        }
                      />
                    )}
                  </Td>
                  {draft.type === "State" && (
                    <Td dataLabel="Exists on the destination">
                      <Checkbox id={`exists-${id}`} aria-label={`${c.namespace}/${c.name} exists on the destination and is used as it is`} isChecked={!!(o.targetExists ?? c.targetExists)} onChange={(_, v) => set(c.namespace, c.name, "targetExists", v)} isDisabled={skip} />
                    </Td>
                  )}
                  <Td dataLabel="Verify">
                    <Checkbox id={`verify-${id}`} aria-label={`Verify ${c.namespace}/${c.name} by checksums after the final copy`} title="After the cutover's final copy, compare the BLAKE3 checksum of every file on both sides" isChecked={!!(o.verify ?? c.verify)} onChange={(_, v) => set(c.namespace, c.name, "verify", v)} isDisabled={skip} />
                  </Td>
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
    </>
  );
}

function Hooks({ draft, setDraft }: { draft: Draft; setDraft: SetDraft }) {
  const hooks = useHooks();
  const { store } = useLive();
  const setHook = (i: number, h: Partial<PlanHook>) =>
    update(setDraft, (d) => ({ ...d, hooks: d.hooks.map((x, j) => (j === i ? { ...x, ...h } : x)) }));
  const add = () => update(setDraft, (d) => ({ ...d, hooks: [...d.hooks, { hook: hooks[0]?.metadata.name ?? "", phase: "PreBackup" }] }));
  const remove = (i: number) => update(setDraft, (d) => ({ ...d, hooks: d.hooks.filter((_, j) => j !== i) }));
  return (
    <>
      <Title headingLevel="h2">Hooks</Title>
      <p style={{ margin: "8px 0 16px" }}>Your own steps at fixed points of the migration: a Job, or a command in running pods (to flush a database, say).</p>
      {store.loaded.Hook && hooks.length === 0 && draft.hooks.length === 0 ? (
        <Empty title="No hooks defined">
          Hooks are optional. To add one, create it with <code>ferry hook create NAME --image IMAGE -- COMMAND</code> (or{" "}
          <code>--exec SELECTOR</code>); it shows here for you to attach.
        </Empty>
      ) : (
        <>
          {draft.hooks.length > 0 && (
            <Table aria-label="The plan's hooks" variant="compact">
              <Thead>
                <Tr>
                  <Th>Hook</Th>
                  <Th>Phase</Th>
                  <Th>Cluster</Th>
                  <Th>Namespace</Th>
                  <Th>Also in stages</Th>
                  <Th screenReaderText="Remove" />
                </Tr>
              </Thead>
              <Tbody>
                {draft.hooks.map((h, i) => (
                  <Tr key={i}>
                    <Td dataLabel="Hook">
                      <FormSelect aria-label={`Hook ${i + 1}`} value={h.hook} onChange={(_, v) => setHook(i, { hook: v })}>
                        {!hooks.some((x) => x.metadata.name === h.hook) && <FormSelectOption value={h.hook} label={`${h.hook || "choose"} (missing)`} />}
                        {hooks.map((x) => (
                          <FormSelectOption key={x.metadata.name} value={x.metadata.name} label={x.metadata.name} />
                        ))}
                      </FormSelect>
                    </Td>
                    <Td dataLabel="Phase">
                      <FormSelect aria-label={`Phase of hook ${i + 1}`} value={h.phase} onChange={(_, v) => setHook(i, { phase: v as PlanHook["phase"] })}>
                        {hookPhases.map((p) => (
                          <FormSelectOption key={p} value={p} label={p} />
                        ))}
                      </FormSelect>
                    </Td>
                    <Td dataLabel="Cluster">
                      <FormSelect aria-label={`Cluster of hook ${i + 1}`} value={h.cluster ?? ""} onChange={(_, v) => setHook(i, { cluster: (v || undefined) as PlanHook["cluster"] })}>
                        <FormSelectOption value="" label="the phase's side" />
                        <FormSelectOption value="source" label="source" />
                        <FormSelectOption value="destination" label="destination" />
                      </FormSelect>
                    </Td>
                    <Td dataLabel="Namespace">
                      <TextInput aria-label={`Namespace of hook ${i + 1}`} value={h.namespace ?? ""} placeholder="the first migrated" onChange={(_, v) => setHook(i, { namespace: v || undefined })} />
                    </Td>
                    <Td dataLabel="Also in stages">
                      <Checkbox id={`stages-${i}`} aria-label={`Run hook ${i + 1} in stages too`} isChecked={!!h.stages} isDisabled={h.phase !== "PreBackup" && h.phase !== "PostBackup"} onChange={(_, v) => setHook(i, { stages: v || undefined })} />
                    </Td>
                    <Td isActionCell>
                      <Button variant="link" onClick={() => remove(i)}>
                        Remove
                      </Button>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          )}
          <Button variant="secondary" onClick={add} style={{ marginTop: 16 }} isDisabled={hooks.length === 0}>
            Add hook
          </Button>
        </>
      )}
    </>
  );
}

function ReviewStep({ plan }: { plan: Plan | null }) {
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Record<number, boolean>>({});
  const name = plan?.metadata.name;
  const gen = plan?.status?.observedGeneration;
  useEffect(() => {
    if (!name) return;
    let live = true;
    get<Review>(`/api/plans/${enc(name)}/review`)
      .then((r) => live && (setReview(r), setError(null)))
      .catch((e: Error) => live && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [name, gen]);
  if (error) return <Failure error={error} title="The review could not be made" />;
  if (!review) return <Loading what="the review" />;
  return (
    <>
      <Title headingLevel="h2">Review</Title>
      {review.problems.length === 0 ? (
        <Alert variant="success" isInline title="The plan can run" style={{ margin: "16px 0" }} />
      ) : (
        <Alert variant="danger" isInline title={`${review.problems.length} problem${review.problems.length > 1 ? "s" : ""} keep the plan from running`} style={{ margin: "16px 0" }}>
          <ul>
            {review.problems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </Alert>
      )}
      {review.warnings.length > 0 && (
        <Alert variant="warning" isInline title="Warnings" style={{ marginBottom: 16 }}>
          <ul>
            {review.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </Alert>
      )}
      <Title headingLevel="h3">Objects per kind</Title>
      {review.counts.length === 0 ? (
        <p>No objects would be applied.</p>
      ) : (
        <Table aria-label="Objects per kind" variant="compact">
          <Thead>
            <Tr>
              <Th>Kind</Th>
              <Th>Count</Th>
            </Tr>
          </Thead>
          <Tbody>
            {review.counts.map((c) => (
              <Tr key={c.kind}>
                <Td dataLabel="Kind">{c.kind}</Td>
                <Td dataLabel="Count">{c.count}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {(plan?.status?.images ?? []).length > 0 && (
        <>
          <Title headingLevel="h3" style={{ marginTop: 24 }}>
            Images copied from the source's registry ({plan!.status!.images!.length})
          </Title>
          <Table aria-label="Images" variant="compact">
            <Thead>
              <Tr>
                <Th>Source</Th>
                <Th>On the destination</Th>
              </Tr>
            </Thead>
            <Tbody>
              {plan!.status!.images!.map((im) => (
                <Tr key={im.source}>
                  <Td dataLabel="Source">{im.source}</Td>
                  <Td dataLabel="On the destination">{im.destination}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </>
      )}
      <Title headingLevel="h3" style={{ marginTop: 24 }}>
        Changes on the destination ({review.changes.length})
      </Title>
      {review.diffError && (
        <Alert variant="warning" isInline title="The dry-run diff could not be made" style={{ margin: "8px 0" }}>
          {review.diffError}
        </Alert>
      )}
      <Table aria-label="Changes" variant="compact">
        <Thead>
          <Tr>
            <Th screenReaderText="Show the diff" />
            <Th>Action</Th>
            <Th>Kind</Th>
            <Th>Object</Th>
          </Tr>
        </Thead>
        {review.changes.map((c, i) => (
          <Tbody key={i} isExpanded={!!open[i]}>
            <Tr>
              <Td expand={{ rowIndex: i, isExpanded: !!open[i], onToggle: () => setOpen((o) => ({ ...o, [i]: !o[i] })) }} />
              <Td dataLabel="Action">{c.action}</Td>
              <Td dataLabel="Kind">{c.kind}</Td>
              <Td dataLabel="Object">{c.namespace ? `${c.namespace}/${c.name}` : c.name}</Td>
            </Tr>
            {open[i] && (
              <Tr isExpanded>
                <Td colSpan={4}>
                  {c.note && <p style={{ marginBottom: 8 }}>{c.note}</p>}
                  {c.diff ? <Diff text={c.diff} /> : !c.note && <p>No diff for this object.</p>}
                </Td>
              </Tr>
            )}
          </Tbody>
        ))}
      </Table>
    </>
  );
}

/** Diff shows a unified diff with added and removed lines marked. */
export function Diff({ text }: { text: string }) {
  return (
    <pre className="ferry-pre" tabIndex={0} aria-label="Diff">
      {text.split("\n").map((l, i) => (
        <span key={i} className={l.startsWith("+") ? "ferry-diff-add" : l.startsWith("-") ? "ferry-diff-del" : undefined}>
          {l}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}
