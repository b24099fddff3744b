// Replication repositories: S3 buckets that indirect migrations copy
// through; list, add (the server tests the connection) and remove.

import { useState, type FormEvent } from "react";
import { Button, Checkbox, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, PageSection, TextArea, TextInput } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { del, enc, post } from "../api";
import { Confirm, Empty, Failure, Header, Hint, Loading, Ready } from "../components/common";
import { condition } from "../lib/conditions";
import { since } from "../lib/format";
import { useLive, usePlans, useRepositories } from "../store";
import type { Repository } from "../types";

export function Repositories() {
  const repos = useRepositories();
  const plans = usePlans();
  const { store, errors } = useLive();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Repository | null>(null);
  const addButton = (
    <Button variant="primary" onClick={() => setAdding(true)}>
      Add repository
    </Button>
  );
  return (
    <>
      <Header title="Replication repositories" actions={addButton}>
        S3-compatible buckets that both clusters reach, for claims whose data goes through a repository (clusters that cannot
        reach each other).
      </Header>
      <PageSection>
        <Failure error={errors.Repository} title="The repositories could not be listed" />
        {!store.loaded.Repository && !errors.Repository ? (
          <Loading what="repositories" />
        ) : repos.length === 0 ? (
          <Empty title="No repositories" action={addButton}>
            Direct migrations need none. To copy through object storage, add a bucket with its endpoint and keys; Ferry tests that it
            can list, write and delete there.
          </Empty>
        ) : (
          <Table aria-label="Repositories">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>Endpoint</Th>
                <Th>Bucket</Th>
                <Th>Prefix</Th>
                <Th>State</Th>
                <Th>Checked</Th>
                <Th screenReaderText="Actions" />
              </Tr>
            </Thead>
            <Tbody>
              {repos.map((r) => {
                const ready = condition(r.status?.conditions, "Ready");
                return (
                  <Tr key={r.metadata.name}>
                    <Td dataLabel="Name">{r.metadata.name}</Td>
                    <Td dataLabel="Endpoint">{r.spec.endpoint}</Td>
                    <Td dataLabel="Bucket">{r.spec.bucket}</Td>
                    <Td dataLabel="Prefix">{r.spec.prefix || "–"}</Td>
                    <Td dataLabel="State">
                      <Ready conditions={r.status?.conditions} />
                      {ready?.status === "False" && <div style={{ fontSize: 13 }}>{ready.message}</div>}
                    </Td>
                    <Td dataLabel="Checked">{since(r.status?.lastChecked)}</Td>
                    <Td isActionCell>
                      <Button variant="secondary" isDanger size="sm" onClick={() => setRemoving(r)} aria-label={`Remove repository ${r.metadata.name}`}>
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
      {adding && <AddRepository onClose={() => setAdding(false)} />}
      {removing && (
        <Confirm
          title={`Remove repository ${removing.metadata.name}?`}
          confirm="Remove"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={() => del(`/api/repositories/${enc(removing.metadata.name)}`)}
        >
          <p>
            Ferry deletes the Repository <b>{removing.metadata.name}</b> and its key Secrets on the host. The bucket and the data in
            it are left as they are, but without the repository's encryption key that data can no longer be read.
          </p>
          {plans.some((p) => p.spec.repository === removing.metadata.name) && (
            <p style={{ marginTop: 8 }}>
              Plans that copy through it ({plans.filter((p) => p.spec.repository === removing.metadata.name).map((p) => p.metadata.name).join(", ")}) cannot run
              until it is added again.
            </p>
          )}
        </Confirm>
      )}
    </>
  );
}

interface RepoForm {
  name: string;
  endpoint: string;
  bucket: string;
  prefix: string;
  region: string;
  pathStyle: boolean;
  insecure: boolean;
  caBundle: string;
  accessKey: string;
  secretKey: string;
}

function repoErrors(f: RepoForm): Partial<Record<keyof RepoForm, string>> {
  const e: Partial<Record<keyof RepoForm, string>> = {};
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(f.name)) e.name = "Lower-case letters, digits and '-'.";
  if (!/^https?:\/\/.+/.test(f.endpoint)) e.endpoint = "The S3 service's http:// or https:// URL.";
  if (f.bucket.trim().length < 3) e.bucket = "The bucket's name, at least 3 characters.";
  if (!f.accessKey.trim()) e.accessKey = "The access key ID.";
  if (!f.secretKey) e.secretKey = "The secret access key.";
  return e;
}

function AddRepository({ onClose }: { onClose: () => void }) {
  const [f, setF] = useState<RepoForm>({ name: "", endpoint: "", bucket: "", prefix: "", region: "", pathStyle: true, insecure: false, caBundle: "", accessKey: "", secretKey: "" });
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Repository | null>(null);
  const set = <K extends keyof RepoForm>(k: K) => (_: unknown, v: RepoForm[K]) => setF((o) => ({ ...o, [k]: v }));
  const errs = tried ? repoErrors(f) : {};
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setTried(true);
    if (Object.keys(repoErrors(f)).length) return;
    setBusy(true);
    setError(null);
    try {
      const r = await post<Repository>("/api/repositories", {
        name: f.name,
        endpoint: f.endpoint.trim(),
        bucket: f.bucket.trim(),
        prefix: f.prefix.trim() || undefined,
        region: f.region.trim() || undefined,
        pathStyle: f.pathStyle,
        insecure: f.insecure,
        caBundle: f.caBundle.trim() || undefined,
        accessKey: f.accessKey.trim(),
        secretKey: f.secretKey,
      });
      setResult(r);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const ready = condition(result?.status?.conditions, "Ready");
  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="add-repo-title">
      <ModalHeader title="Add repository" labelId="add-repo-title" />
      <ModalBody>
        {result && (
          <Failure
            error={ready?.status === "True" ? null : `${ready?.reason ?? "Not checked yet"}: ${ready?.message ?? "the check has not finished"}`}
            title="The repository was added, but the connection test failed"
          />
        )}
        {result && ready?.status === "True" && <p>Connection tested: Ferry can list, write and delete in the bucket.</p>}
        {!result && (
          <Form id="add-repo" onSubmit={submit}>
            <Failure error={error} title="The repository was not added" />
            {(
              [
                ["name", "Name", true, ""],
                ["endpoint", "Endpoint", true, "https://s3.eu-west-1.amazonaws.com"],
                ["bucket", "Bucket", true, ""],
                ["prefix", "Prefix", false, "ferry/"],
                ["region", "Region", false, "us-east-1"],
                ["accessKey", "Access key ID", true, ""],
              ] as [keyof RepoForm, string, boolean, string][]
            ).map(([k, label, req, ph]) => (
              <FormGroup key={k} label={label} isRequired={req} fieldId={`r-${k}`}>
                <TextInput id={`r-${k}`} value={f[k] as string} onChange={set(k) as never} placeholder={ph} validated={errs[k] ? "error" : "default"} isRequired={req} />
                {errs[k] && <Hint text={errs[k]} error />}
              </FormGroup>
            ))}
            <FormGroup label="Secret access key" isRequired fieldId="r-secretKey">
              <TextInput id="r-secretKey" type="password" autoComplete="off" value={f.secretKey} onChange={set("secretKey")} validated={errs.secretKey ? "error" : "default"} isRequired />
              {errs.secretKey && <Hint text={errs.secretKey} error />}
            </FormGroup>
            <Checkbox id="r-path" label="Path-style addressing (ENDPOINT/BUCKET; most servers other than AWS)" isChecked={f.pathStyle} onChange={set("pathStyle")} />
            <Checkbox id="r-insecure" label="Do not verify the endpoint's certificate" isChecked={f.insecure} onChange={set("insecure")} />
            <FormGroup label="CA bundle (PEM)" fieldId="r-ca">
              <TextArea id="r-ca" value={f.caBundle} onChange={set("caBundle")} rows={3} />
            </FormGroup>
          </Form>
        )}
      </ModalBody>
      <ModalFooter>
        {result ? (
          <Button variant="primary" onClick={onClose}>
            Close
          </Button>
        ) : (
          <>
            <Button variant="primary" type="submit" form="add-repo" isLoading={busy} isDisabled={busy}>
              {busy ? "Testing the connection…" : "Add and test connection"}
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
