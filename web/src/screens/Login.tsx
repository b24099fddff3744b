// The login page: a bearer token of the host cluster (the console in the
// controller). A local `ferry console` logs in by the key in its URL.

import { useState, type FormEvent } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, PageSection, TextInput, Title } from "@patternfly/react-core";
import { post } from "../api";
import type { Session } from "../types";

export function Login({ error, onSession }: { error: string | null; onSession: (s: Session) => void }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setFailed("Paste a bearer token of the host cluster: for example the output of `kubectl create token NAME -n NAMESPACE`, or `oc whoami -t` on OpenShift.");
      return;
    }
    setBusy(true);
    setFailed(null);
    try {
      onSession(await post<Session>("/api/session", { token: token.trim() }));
    } catch (err) {
      setFailed((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <main>
      <PageSection style={{ maxWidth: 640, margin: "10vh auto" }}>
        <Title headingLevel="h1" style={{ marginBottom: 16 }}>
          Log in to the Ferry console
        </Title>
        {failed && (
          <Alert variant="danger" isInline title="Not logged in" style={{ marginBottom: 16 }}>
            {failed}
          </Alert>
        )}
        <Form onSubmit={submit}>
          <FormGroup label="Bearer token" isRequired fieldId="token">
            <TextInput id="token" type="password" value={token} onChange={(_, v) => setToken(v)} autoComplete="off" isRequired />
            <FormHelperText>
              <HelperText>
                <HelperTextItem>
                  A token of the host cluster. The console acts with exactly its rights and keeps it only for this session.
                  Running <code>ferry console</code> on your machine? Open the URL it printed instead.
                </HelperTextItem>
              </HelperText>
            </FormHelperText>
          </FormGroup>
          <ActionGroup>
            <Button type="submit" variant="primary" isLoading={busy} isDisabled={busy}>
              Log in
            </Button>
          </ActionGroup>
        </Form>
      </PageSection>
    </main>
  );
}
