// The landing page: clusters and their state, plans, and the migrations
// running or recently ended, each linking to its page.

import { Card, CardBody, CardTitle, Gallery, PageSection } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { Empty, Header, Phase, Ready } from "../components/common";
import { since } from "../lib/format";
import { Link } from "../router";
import { latestMigration, useClusters, useLive, useMigrations, usePlans } from "../store";

/** recent is how long an ended migration stays on the overview. */
const recent = 24 * 3600 * 1000;

export function Overview() {
  const clusters = useClusters();
  const plans = usePlans();
  const migrations = useMigrations();
  const { store } = useLive();
  const now = Date.now();
  const shown = migrations
    .filter((m) => {
      const p = m.status?.phase;
      if (!p || p === "Pending" || p === "Running" || p === "Canceling" || p === "Failed") return true;
      const end = m.status?.completionTime ?? m.metadata.creationTimestamp;
      return !!end && now - new Date(end).getTime() < recent;
    })
    .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
  return (
    <>
      <Header title="Overview" />
      <PageSection>
        <Gallery hasGutter minWidths={{ default: "100%", lg: "calc(50% - 16px)" }}>
          <Card>
            <CardTitle>
              <h2>Clusters</h2>
            </CardTitle>
            <CardBody>
              {store.loaded.Cluster && clusters.length === 0 ? (
                <Empty title="No clusters yet" action={<Link to="/clusters">Add a cluster</Link>}>
                  Register the cluster to migrate from and the one to migrate to; they may be the same cluster.
                </Empty>
              ) : (
                <Table aria-label="Clusters" variant="compact">
                  <Thead>
                    <Tr>
                      <Th>Name</Th>
                      <Th>State</Th>
                      <Th>Version</Th>
                    </Tr>
                  </Thead>
                  <Tbody>
                    {clusters.map((c) => (
                      <Tr key={c.metadata.name}>
                        <Td dataLabel="Name">
                          <Link to="/clusters">{c.metadata.name}</Link>
                        </Td>
                        <Td dataLabel="State">
                          <Ready conditions={c.status?.conditions} />
                        </Td>
                        <Td dataLabel="Version">{c.status?.kubernetesVersion ?? "–"}</Td>
                      </Tr>
                    ))}
                  </Tbody>
                </Table>
              )}
            </CardBody>
          </Card>
          <Card>
            <CardTitle>
              <h2>Plans</h2>
            </CardTitle>
            <CardBody>
              {store.loaded.Plan && plans.length === 0 ? (
                <Empty title="No plans yet" action={<Link to="/plans/new">Create a plan</Link>}>
                  A plan says which namespaces go from which cluster to which, and what happens to their volumes.
                </Empty>
              ) : (
                <Table aria-label="Plans" variant="compact">
                  <Thead>
                    <Tr>
                      <Th>Name</Th>
                      <Th>State</Th>
                      <Th>Last migration</Th>
                    </Tr>
                  </Thead>
                  <Tbody>
                    {plans.map((p) => {
                      const m = latestMigration(migrations, p.metadata.name);
                      return (
                        <Tr key={p.metadata.name}>
                          <Td dataLabel="Name">
                            <Link to="/plans">{p.metadata.name}</Link>
                          </Td>
                          <Td dataLabel="State">
                            <Ready conditions={p.status?.conditions} />
                          </Td>
                          <Td dataLabel="Last migration">
                            {m ? (
                              <Link to={`/migrations/${encodeURIComponent(m.metadata.name)}`}>
                                {m.spec.type} <Phase phase={m.status?.phase} />
                              </Link>
                            ) : (
                              "none yet"
                            )}
                          </Td>
                        </Tr>
                      );
                    })}
                  </Tbody>
                </Table>
              )}
            </CardBody>
          </Card>
        </Gallery>
      </PageSection>
      <PageSection>
        <Card>
          <CardTitle>
            <h2>Migrations running or recently ended</h2>
          </CardTitle>
          <CardBody>
            {shown.length === 0 ? (
              <Empty title="No migration running" action={<Link to="/plans">Go to the plans</Link>}>
                Start a Stage or a Cutover from the Plans page; it shows here while it runs and for a day after.
              </Empty>
            ) : (
              <Table aria-label="Migrations" variant="compact">
                <Thead>
                  <Tr>
                    <Th>Migration</Th>
                    <Th>Plan</Th>
                    <Th>Type</Th>
                    <Th>Phase</Th>
                    <Th>Current step</Th>
                    <Th>Started</Th>
                  </Tr>
                </Thead>
                <Tbody>
                  {shown.map((m) => {
                    const cur = m.status?.itinerary?.find((s) => s.phase === "Running" || s.phase === "Failed");
                    return (
                      <Tr key={m.metadata.name}>
                        <Td dataLabel="Migration">
                          <Link to={`/migrations/${encodeURIComponent(m.metadata.name)}`}>{m.metadata.name}</Link>
                        </Td>
                        <Td dataLabel="Plan">{m.spec.plan}</Td>
                        <Td dataLabel="Type">{m.spec.type}</Td>
                        <Td dataLabel="Phase">
                          <Phase phase={m.status?.phase} />
                        </Td>
                        <Td dataLabel="Current step">{cur?.name ?? "–"}</Td>
                        <Td dataLabel="Started">{since(m.status?.startTime ?? m.metadata.creationTimestamp, now)}</Td>
                      </Tr>
                    );
                  })}
                </Tbody>
              </Table>
            )}
          </CardBody>
        </Card>
      </PageSection>
    </>
  );
}
