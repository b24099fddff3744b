// Clusters: the registered clusters with their conditions and versions;
// add one (the Ready check shown as it runs) and remove one.

import { useState, type FormEvent } from "react";
import {
  Button,
  Checkbox,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  ProgressStep,
  ProgressStepper,
  TextArea,
  TextInput,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { del, enc, post } from "../api";
import { Confirm, Empty, Failure, Header, Hint, Loading, Ready } from "../components/common";
import { condition } from "../lib/conditions";
import { since } from "../lib/format";
import { useClusters, useLive, usePlans } from "../store";
import { useSession } from "../session";
import type { Cluster } from "../types";

export function Clusters() {
  const clusters = useClusters();
  const plans = usePlans();
  const { store, errors } = useLive();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Cluster | null>(null);
  const addButton = (
    <Button variant="primary" onClick={() => setAdding(true)}>
      Add cluster
    </Button>
  );
  const usedBy = (name: string) =>
    plans.filter((p) => p.spec.sourceCluster === name || p.spec.destinationCluster === name).map((p) => p.metadata.name);
  return (
    <>
      <Header title="Clusters" actions={addButton}>
        The clusters Ferry migrates from and to. Ferry reaches each with a token of its own service account there.
      </Header>
      <PageSection>
        <Failure error={errors.Cluster} title="The clusters could not be listed" />
        {!store.loaded.Cluster && !errors.Cluster ? (
          <Loading what="clusters" />
        ) : clusters.length === 0 ? (
          <Empty title="No clusters yet" action={addButton}>
            Add the cluster to migrate from and the one to migrate to, each with its API URL and an administrator's token: Ferry
            uses the token once to create its own service account and roles there, and never stores it.
          </Empty>
        ) : (
          <Table aria-label="Clusters">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>API URL</Th>
                <Th>State</Th>
                <Th>Kubernetes</Th>
                <Th>Storage classes</Th>
                <Th>Mover service</Th>
                <Th>Registry</Th>
                <Th>Checked</Th>
                <Th screenReaderText="Actions" />
              </Tr>
            </Thead>
            <Tbody>
              {clusters.map((c) => {
                const ready = condition(c.status?.conditions, "Ready");
                return (
                  <Tr key={c.metadata.name}>
                    <Td dataLabel="Name">
                      {c.metadata.name}
                      {c.spec.isHost && <> (host)</>}
                    </Td>
                    <Td dataLabel="API URL">{c.spec.url || "in-cluster"}</Td>
                    <Td dataLabel="State">
                      <Ready conditions={c.status?.conditions} />
                      {ready?.status === "False" && ready.message && <div style={{ fontSize: 13 }}>{ready.message}</div>}
                      {(c.status?.conditions ?? [])
                        .filter((x) => x.type !== "Ready")
                        .map((x) => (
                          <div key={x.type} style={{ fontSize: 13 }} title={x.message}>
                            {x.type}: {x.status === "True" ? "yes" : x.status === "False" ? `no (${x.reason})` : "checking"}
                          </div>
                        ))}
                    </Td>
                    <Td dataLabel="Kubernetes">{c.status?.kubernetesVersion ?? "–"}</Td>
                    <Td dataLabel="Storage classes">
                      {(c.status?.storageClasses ?? []).map((s) => s.name + (s.default ? " (default)" : "")).join(", ") || "–"}
                    </Td>
                    <Td dataLabel="Mover service">{c.spec.moverService || "NodePort"}</Td>
                    <Td dataLabel="Registry">{c.spec.registry?.address ?? "–"}</Td>
                    <Td dataLabel="Checked">{since(c.status?.lastChecked)}</Td>
                    <Td dataLabel="Actions" isActionCell>
                      <Button variant="secondary" isDanger size="sm" onClick={() => setRemoving(c)} aria-label={`Remove cluster ${c.metadata.name}`}>
                        Remove
                      </Button>
                    </Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        )}
      </PageSection>
      {adding && <AddCluster onClose={() => setAdding(false)} />}
      {removing && (
        <Confirm
          title={`Remove cluster ${removing.metadata.name}?`}
          confirm="Remove"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={() => del(`/api/clusters/${enc(removing.metadata.name)}`)}
        >
          <p>
            Ferry deletes the Cluster <b>{removing.metadata.name}</b> and the token Secret it keeps for it on the host. Nothing on
            the cluster itself is touched: its workloads and data stay as they are.
          </p>
          {usedBy(removing.metadata.name).length > 0 && (
            <p style={{ marginTop: 8 }}>
              The plans {usedBy(removing.metadata.name).join(", ")} name it and cannot run until it is added again.
            </p>
          )}
        </Confirm>
      )}
    </>
  );
}

interface ClusterForm {
  name: string;
  server: string;
  token: string;
  caBundle: string;
  insecure: boolean;
  role: "source" | "destination" | "both";
  moverService: string;
  registry: string;
  registryInternal: string;
  registryInsecure: boolean;
  registryUser: string;
  registryPassword: string;
  /** local mode: connect with a kubeconfig file of this machine instead of a URL and token */
  useKubeconfig: boolean;
  kubeconfig: string;
  context: string;
  /** the token is the user's own (a namespace admin's): stored, used for everything, no roles created */
  asUser: boolean;
}

const blank: ClusterForm = {
  name: "",
  server: "",
  token: "",
  caBundle: "",
  insecure: false,
  role: "both",
  moverService: "NodePort",
  registry: "",
  registryInternal: "",
  registryInsecure: false,
  registryUser: "",
  registryPassword: "",
  useKubeconfig: false,
  kubeconfig: "",
  context: "",
  asUser: false,
};

/** formErrors says what is wrong with each field of the form. */
function formErrors(f: ClusterForm): Partial<Record<keyof ClusterForm, string>> {
  const e: Partial<Record<keyof ClusterForm, string>> = {};
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(f.name)) e.name = "Lower-case letters, digits and '-', e.g. prod-east.";
  if (f.useKubeconfig) {
    if (!f.kubeconfig.trim()) e.kubeconfig = "The path of a kubeconfig file on the machine ferry console runs on.";
    return e;
  }
  if (!/^https:\/\/.+/.test(f.server)) e.server = "The API server's https:// URL, e.g. https://10.0.0.1:6443.";
  if (!f.token.trim()) e.token = f.asUser ? "Your own token for the cluster." : "An administrator's token for the cluster, used once for the registration.";
  if (f.caBundle.trim() && !f.caBundle.includes("-----BEGIN CERTIFICATE-----")) e.caBundle = "A PEM bundle, starting with -----BEGIN CERTIFICATE-----.";
  if (!f.caBundle.trim() && !f.insecure) e.caBundle = "Paste the CA bundle that signs the API server's certificate, or check Insecure.";
  if (f.registryUser && !f.registryPassword) e.registryPassword = "The registry user's password.";
  return e;
}

function AddCluster({ onClose }: { onClose: () => void }) {
  const [f, setF] = useState<ClusterForm>(blank);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const clusters = useClusters();
  const local = useSession()?.mode === "local";
  const set = <K extends keyof ClusterForm>(k: K) => (_: unknown, v: ClusterForm[K]) => setF((o) => ({ ...o, [k]: v }));
  const errs = tried ? formErrors(f) : {};
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setTried(true);
    if (Object.keys(formErrors(f)).length) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = f.useKubeconfig
        ? { name: f.name, kubeconfig: f.kubeconfig.trim(), context: f.context.trim() || undefined, role: f.role, moverService: f.moverService, asUser: f.asUser }
        : {
            name: f.name,
            server: f.server,
            token: f.token.trim(),
            caBundle: f.caBundle.trim() || undefined,
            insecure: f.insecure,
            role: f.role,
            moverService: f.moverService,
            asUser: f.asUser,
          };
      if (f.registry.trim())
        body.registry = {
          address: f.registry.trim(),
          internalAddress: f.registryInternal.trim() || undefined,
          insecure: f.registryInsecure,
          username: f.registryUser.trim() || undefined,
          password: f.registryPassword || undefined,
        };
      const c = await post<Cluster>("/api/clusters", body);
      setAdded(c?.metadata?.name ?? f.name);
      setF((o) => ({ ...o, token: "" }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const live = added ? clusters.find((c) => c.metadata.name === added) : undefined;
  const ready = condition(live?.status?.conditions, "Ready");
  const checked = !!ready && ready.status !== "Unknown" && (ready.observedGeneration ?? live?.status?.observedGeneration ?? 0) >= (live?.metadata.generation ?? 0);
  const v = (k: keyof ClusterForm) => (errs[k] ? "error" : "default");
  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="add-cluster-title">
      <ModalHeader title="Add cluster" labelId="add-cluster-title" />
      <ModalBody>
        {added ? (
          <>
            <ProgressStepper isVertical aria-label="Registration">
              <ProgressStep
                variant="success"
                id="reg"
                titleId="reg-t"
                description={f.asUser ? "Your token was stored in a Secret on the host; no service account or role was created." : "Ferry's service account, roles and token Secret were created."}
              >
                Registered {added}
              </ProgressStep>
              <ProgressStep
                variant={!checked ? "info" : ready?.status === "True" ? "success" : "danger"}
                isCurrent={!checked}
                id="ready"
                titleId="ready-t"
                description={
                  !checked
                    ? "The controller reaches the API server, checks Ferry's permissions, and reads the version and storage classes…"
                    : ready?.message || ready?.reason
                }
              >
                {!checked ? "Checking the cluster" : ready?.status === "True" ? "Ready" : `Not ready: ${ready?.reason}`}
              </ProgressStep>
            </ProgressStepper>
            {checked && ready?.status === "True" && (
              <p style={{ marginTop: 16 }}>
                Kubernetes {live?.status?.kubernetesVersion}; storage classes {(live?.status?.storageClasses ?? []).map((s) => s.name).join(", ") || "none"}.
              </p>
            )}
          </>
        ) : (
          <Form id="add-cluster" onSubmit={submit}>
            <Failure error={error} title="The cluster was not added" />
            <FormGroup label="Name" isRequired fieldId="c-name">
              <TextInput id="c-name" value={f.name} onChange={set("name")} validated={v("name")} isRequired />
              {errs.name && <Hint text={errs.name} error />}
            </FormGroup>
            {local && (
              <Checkbox
                id="c-use-kubeconfig"
                label="Connect with a kubeconfig file on the machine ferry console runs on, instead of a URL and token"
                isChecked={f.useKubeconfig}
                onChange={set("useKubeconfig")}
              />
            )}
            <Checkbox
              id="c-as-user"
              label="Use my own token: I am a namespace admin there, without cluster-wide rights"
              description="Ferry then does on this cluster exactly what you may do (your namespaces only), creates no service account or role, and stores your token in a Secret on the host."
              isChecked={f.asUser}
              onChange={set("asUser")}
            />
            {f.useKubeconfig ? (
              <>
                <FormGroup label="Kubeconfig file" isRequired fieldId="c-kubeconfig">
                  <TextInput id="c-kubeconfig" value={f.kubeconfig} onChange={set("kubeconfig")} placeholder="/home/me/.kube/config" validated={v("kubeconfig")} isRequired />
                  {errs.kubeconfig && <Hint text={errs.kubeconfig} error />}
                </FormGroup>
                <FormGroup label="Context" fieldId="c-context">
                  <TextInput id="c-context" value={f.context} onChange={set("context")} placeholder="the file's current context" />
                </FormGroup>
              </>
            ) : (
              <>
            <FormGroup label="API URL" isRequired fieldId="c-server">
              <TextInput id="c-server" value={f.server} onChange={set("server")} placeholder="https://10.0.0.1:6443" validated={v("server")} isRequired />
              {errs.server && <Hint text={errs.server} error />}
            </FormGroup>
            <FormGroup label={f.asUser ? "Your token" : "Administrator token"} isRequired fieldId="c-token">
              <TextInput id="c-token" type="password" autoComplete="off" value={f.token} onChange={set("token")} validated={v("token")} isRequired />
              <Hint
                text={errs.token ?? (f.asUser ? "Kept in a Secret on the host; everything Ferry does on this cluster is done with it." : "Used once to create Ferry's own service account and roles; never stored.")}
                error={!!errs.token}
              />
            </FormGroup>
            <FormGroup label="CA bundle (PEM)" fieldId="c-ca">
              <TextArea id="c-ca" value={f.caBundle} onChange={set("caBundle")} rows={3} validated={v("caBundle")} isDisabled={f.insecure} />
              {errs.caBundle && <Hint text={errs.caBundle} error />}
            </FormGroup>
            <Checkbox id="c-insecure" label="Insecure: do not verify the API server's certificate" isChecked={f.insecure} onChange={set("insecure")} />
              </>
            )}
            <FormGroup label="Role" fieldId="c-role">
              <FormSelect id="c-role" value={f.role} onChange={set("role") as never}>
                <FormSelectOption value="both" label="Source and destination" />
                <FormSelectOption value="source" label="Source only" />
                <FormSelectOption value="destination" label="Destination only" />
              </FormSelect>
            </FormGroup>
            <FormGroup label="Mover exposure" fieldId="c-mover">
              <FormSelect id="c-mover" value={f.moverService} onChange={set("moverService") as never}>
                <FormSelectOption value="NodePort" label="NodePort (a node address and port)" />
                <FormSelectOption value="LoadBalancer" label="LoadBalancer" />
                <FormSelectOption value="Route" label="Route (OpenShift passthrough)" />
              </FormSelect>
              <Hint text="How data movers on other clusters reach the receivers on this one." />
            </FormGroup>
            <FormGroup label="Image registry (optional)" fieldId="c-reg">
              <TextInput id="c-reg" value={f.registry} onChange={set("registry")} placeholder="registry.example:5000" />
              <Hint text="The cluster's internal registry, HOST[:PORT] as the controller reaches it; its images are copied in Full migrations." />
            </FormGroup>
            {f.registry.trim() && (
              <>
                <FormGroup label="Registry address as pods reference it" fieldId="c-reg-int">
                  <TextInput id="c-reg-int" value={f.registryInternal} onChange={set("registryInternal")} placeholder="image-registry.openshift-image-registry.svc:5000" />
                </FormGroup>
                <Checkbox id="c-reg-insecure" label="Registry over plain HTTP or without certificate verification" isChecked={f.registryInsecure} onChange={set("registryInsecure")} />
                <FormGroup label="Registry user (optional)" fieldId="c-reg-user">
                  <TextInput id="c-reg-user" value={f.registryUser} onChange={set("registryUser")} autoComplete="off" />
                </FormGroup>
                <FormGroup label="Registry password" fieldId="c-reg-password">
                  <TextInput id="c-reg-password" type="password" value={f.registryPassword} onChange={set("registryPassword")} autoComplete="off" validated={v("registryPassword")} />
                  {errs.registryPassword && <Hint text={errs.registryPassword} error />}
                  <Hint text="Kept in a Secret on the host for the image copies; anonymous access without them." />
                </FormGroup>
              </>
            )}
          </Form>
        )}
      </ModalBody>
      <ModalFooter>
        {added ? (
          <Button variant="primary" onClick={onClose}>
            Close
          </Button>
        ) : (
          <>
            <Button variant="primary" type="submit" form="add-cluster" isLoading={busy} isDisabled={busy}>
              Add
            </Button>
            <Button variant="link" onClick={onClose}>
              Cancel
            </Button>
          </>
        )}
      </ModalFooter>
    </Modal>
  );
}
