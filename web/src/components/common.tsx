// Small building blocks shared by the screens.

import { useState, type ReactNode } from "react";
import {
  Alert,
  Button,
  EmptyState,
  EmptyStateActions,
  EmptyStateBody,
  EmptyStateFooter,
  Label,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  Spinner,
  Title,
} from "@patternfly/react-core";
import { phaseStatus, readyState } from "../lib/conditions";
import type { Condition } from "../types";

/** Empty is a screen's empty state: what is missing and what to do. */
export function Empty({ title, children, action }: { title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <EmptyState titleText={title} headingLevel="h2" variant="sm">
      <EmptyStateBody>{children}</EmptyStateBody>
      {action && (
        <EmptyStateFooter>
          <EmptyStateActions>{action}</EmptyStateActions>
        </EmptyStateFooter>
      )}
    </EmptyState>
  );
}

/** Header is a page's title and its actions. */
export function Header({ title, children, actions }: { title: string; children?: ReactNode; actions?: ReactNode }) {
  return (
    <PageSection>
      <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", gap: 16, flexWrap: "wrap" }}>
        <Title headingLevel="h1">{title}</Title>
        {actions && <div style={{ display: "flex", gap: 8 }}>{actions}</div>}
      </div>
      {children && <div style={{ marginTop: 8 }}>{children}</div>}
    </PageSection>
  );
}

/** Ready shows an object's Ready condition as a label, its message as the title. */
export function Ready({ conditions }: { conditions?: Condition[] }) {
  const s = readyState(conditions);
  return (
    <Label status={s.status === "custom" ? undefined : s.status} isCompact title={s.message}>
      {s.text}
    </Label>
  );
}

/** Phase shows a migration's, step's or copy's phase as a label. */
export function Phase({ phase }: { phase?: string }) {
  const s = phaseStatus(phase);
  return (
    <Label status={s === "custom" ? undefined : s} isCompact>
      {phase || "Pending"}
    </Label>
  );
}

/** Failure shows an error in an inline alert. */
export function Failure({ error, title = "That did not work" }: { error?: string | null; title?: string }) {
  if (!error) return null;
  return (
    <Alert variant="danger" isInline title={title} style={{ marginBottom: 16 }}>
      {error}
    </Alert>
  );
}

/** Loading is a spinner with a label for screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <div style={{ display: "flex", gap: 8, alignItems: "center", padding: 24 }}>
      <Spinner size="md" aria-label={`Loading ${what}`} /> <span>Loading {what}…</span>
    </div>
  );
}

/** ConfirmProps describe an action that asks first. */
export interface ConfirmProps {
  title: string;
  /** What will happen, in full. */
  children: ReactNode;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}

/** Confirm is a modal that says exactly what an action does, and runs it. */
export function Confirm({ title, children, confirm, danger, onConfirm, onClose }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="confirm-title">
      <ModalHeader title={title} labelId="confirm-title" titleIconVariant={danger ? "warning" : undefined} />
      <ModalBody>
        <Failure error={error} />
        {children}
      </ModalBody>
      <ModalFooter>
        <Button variant={danger ? "danger" : "primary"} onClick={run} isLoading={busy} isDisabled={busy}>
          {confirm}
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** Hint is a line of help under a field; an error one is red. */
export function Hint({ text, error = false }: { text: ReactNode; error?: boolean }) {
  return <div style={{ fontSize: 13, marginTop: 4, color: error ? "#a30000" : "#4f5255" }}>{text}</div>;
}
