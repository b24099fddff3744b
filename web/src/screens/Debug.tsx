// The debug view: every object a migration created or changed on either
// cluster, as a tree, each with its YAML, events, pod log lines and the
// equivalent kubectl command.

import { useEffect, useMemo, useState } from "react";
import { Card, CardBody, CardTitle, ClipboardCopy, Grid, GridItem, PageSection, Tab, Tabs, TabTitleText, TreeView, type TreeViewDataItem } from "@patternfly/react-core";
import { enc, get } from "../api";
import { Empty, Failure, Header, Loading } from "../components/common";
import { Link } from "../router";
import type { Debug, DebugEvent, DebugObject } from "../types";

/** tree groups the objects by cluster, then namespace, then kind. */
function tree(d: Debug): TreeViewDataItem[] {
  return d.clusters.map((c) => {
    const byNs = new Map<string, Map<string, DebugObject[]>>();
    for (const o of c.objects) {
      const ns = o.namespace || "(cluster-scoped)";
      if (!byNs.has(ns)) byNs.set(ns, new Map());
      const kinds = byNs.get(ns)!;
      if (!kinds.has(o.kind)) kinds.set(o.kind, []);
      kinds.get(o.kind)!.push(o);
    }
    return {
      name: `${c.name} (${c.objects.length})`,
      id: `c/${c.name}`,
      defaultExpanded: true,
      children: [...byNs.entries()].sort().map(([ns, kinds]) => ({
        name: ns,
        id: `c/${c.name}/${ns}`,
        defaultExpanded: byNs.size < 4,
        children: [...kinds.entries()].sort().map(([kind, objs]) => ({
          name: `${kind} (${objs.length})`,
          id: `c/${c.name}/${ns}/${kind}`,
          defaultExpanded: c.objects.length <= 30,
          children: objs.map((o) => ({ name: o.name, id: objectId(c.name, o) })),
        })),
      })),
    };
  });
}

const objectId = (cluster: string, o: DebugObject) => `o/${cluster}/${o.namespace ?? ""}/${o.kind}/${o.name}`;

function eventLine(e: DebugEvent): string {
  return [e.time ? new Date(e.time).toLocaleString() : "", e.type, e.reason, e.message, e.count && e.count > 1 ? `(×${e.count})` : ""].filter(Boolean).join(" ");
}

export default function DebugPage({ name }: { name: string }) {
  const [data, setData] = useState<Debug | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<string | number>("yaml");
  useEffect(() => {
    get<Debug>(`/api/migrations/${enc(name)}/debug`).then(setData, (e: Error) => setError(e.message));
  }, [name]);
  const items = useMemo(() => (data ? tree(data) : []), [data]);
  const index = useMemo(() => {
    const m = new Map<string, DebugObject>();
    for (const c of data?.clusters ?? []) for (const o of c.objects) m.set(objectId(c.name, o), o);
    return m;
  }, [data]);
  const obj = selected ? index.get(selected) : undefined;
  const count = index.size;
  return (
    <>
      <Header title={`Debug view of ${name}`} actions={<Link to={`/migrations/${enc(name)}`}>Back to the migration</Link>}>
        What the migration created or changed on each cluster. Choose an object to see its YAML, events and log.
      </Header>
      <PageSection>
        <Failure error={error} title="The debug view could not be made" />
        {(data?.clusters ?? [])
          .filter((c) => c.errors?.length)
          .map((c) => (
            <Failure key={c.name} error={c.errors!.join("; ")} title={`Some objects of ${c.name} could not be read`} />
          ))}
        {!data && !error ? (
          <Loading what="the migration's objects" />
        ) : data && count === 0 ? (
          <Empty title="Nothing to show">The migration has not created or changed any object yet, or what it made was removed (by a rollback or a cancel).</Empty>
        ) : (
          data && (
            <Grid hasGutter>
              <GridItem md={4}>
                <Card>
                  <CardTitle><h2>Objects ({count})</h2></CardTitle>
                  <CardBody>
                    <TreeView
                      aria-label="Objects of the migration"
                      data={items}
                      hasGuides
                      activeItems={items.length && selected ? [{ name: "", id: selected }] : []}
                      onSelect={(_, item) => {
                        if (item.id && index.has(item.id)) setSelected(item.id);
                      }}
                    />
                  </CardBody>
                </Card>
              </GridItem>
              <GridItem md={8}>
                <Card>
                  <CardTitle><h2>{obj ? `${obj.kind} ${obj.namespace ? obj.namespace + "/" : ""}${obj.name}` : "No object chosen"}</h2></CardTitle>
                  <CardBody>
                    {!obj ? (
                      <p>Choose an object in the tree.</p>
                    ) : (
                      <>
                        <ClipboardCopy isReadOnly hoverTip="Copy the kubectl command" clickTip="Copied" style={{ marginBottom: 16 }} aria-label="kubectl command">
                          {obj.kubectl}
                        </ClipboardCopy>
                        <Tabs activeKey={tab} onSelect={(_, k) => setTab(k)} aria-label="Object details">
                          <Tab eventKey="yaml" title={<TabTitleText>YAML</TabTitleText>}>
                            <pre className="ferry-pre" tabIndex={0} aria-label="YAML">{obj.yaml}</pre>
                          </Tab>
                          <Tab eventKey="events" title={<TabTitleText>Events ({obj.events?.length ?? 0})</TabTitleText>}>
                            {obj.events?.length ? <pre className="ferry-pre" tabIndex={0}>{obj.events.map(eventLine).join("\n")}</pre> : <p>No events.</p>}
                          </Tab>
                          {obj.kind === "Pod" && (
                            <Tab eventKey="log" title={<TabTitleText>Log</TabTitleText>}>
                              {obj.log?.length ? <pre className="ferry-pre" tabIndex={0}>{obj.log.join("\n")}</pre> : <p>No log lines.</p>}
                            </Tab>
                          )}
                        </Tabs>
                      </>
                    )}
                  </CardBody>
                </Card>
              </GridItem>
            </Grid>
          )
        )}
      </PageSection>
    </>
  );
}
