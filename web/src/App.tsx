// The console's frame: masthead, navigation and the page for the path.

import { lazy, Suspense, type ReactNode } from "react";
import {
  Button,
  Label,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadLogo,
  MastheadMain,
  Nav,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  SkipToContent,
} from "@patternfly/react-core";
import { del } from "./api";
import { Link, match, usePath } from "./router";
import { LiveProvider, useLive } from "./store";
import { SessionContext } from "./session";
import { Loading, Empty } from "./components/common";
import { Overview } from "./screens/Overview";
import { Clusters } from "./screens/Clusters";
import { Repositories } from "./screens/Repositories";
import { Plans } from "./screens/Plans";
import type { Session } from "./types";

const PlanWizard = lazy(() => import("./screens/PlanWizard"));
const MigrationPage = lazy(() => import("./screens/Migration"));
const DebugPage = lazy(() => import("./screens/Debug"));
const ReportPage = lazy(() => import("./screens/Report"));

const nav = [
  { to: "/", label: "Overview" },
  { to: "/clusters", label: "Clusters" },
  { to: "/repositories", label: "Repositories" },
  { to: "/plans", label: "Plans" },
];

function route(path: string): ReactNode {
  let m: Record<string, string> | null;
  if (match("/", path)) return <Overview />;
  if (match("/clusters", path)) return <Clusters />;
  if (match("/repositories", path)) return <Repositories />;
  if (match("/plans", path)) return <Plans />;
  if (match("/plans/new", path)) return <PlanWizard key="new" />;
  if ((m = match("/plans/:name/edit", path))) return <PlanWizard key={m.name} name={m.name} />;
  if ((m = match("/migrations/:name", path))) return <MigrationPage name={m.name} />;
  if ((m = match("/migrations/:name/debug", path))) return <DebugPage name={m.name} />;
  if ((m = match("/migrations/:name/report", path))) return <ReportPage name={m.name} />;
  return (
    <Empty title="No such page" action={<Link to="/">Go to the overview</Link>}>
      The console has no page at {path}.
    </Empty>
  );
}

function Stream() {
  const { connected } = useLive();
  return (
    <Label status={connected ? "success" : "warning"} isCompact title={connected ? "Live updates are on" : "Live updates are reconnecting; what you see may be old"}>
      {connected ? "Live" : "Reconnecting"}
    </Label>
  );
}

export default function App({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const path = usePath();
  const logout = async () => {
    try {
      await del("/api/session");
    } finally {
      onLogout();
    }
  };
  const section = "/" + (path.split("/")[1] ?? "");
  const header = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <MastheadLogo component={(p: object) => <Link to="/" {...p} />}>
            <span style={{ fontSize: 20, fontWeight: 600, color: "inherit" }}>Ferry</span>
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <div style={{ marginLeft: "auto", display: "flex", gap: 12, alignItems: "center" }}>
          <Stream />
          <span>
            {session.user} ({session.mode === "local" ? "local" : "token"}, {session.namespace})
          </span>
          <Button variant="secondary" size="sm" onClick={logout}>
            Log out
          </Button>
        </div>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Console">
          <NavList>
            {nav.map((n) => {
              const active = n.to === "/" ? path === "/" : section === n.to || (n.to === "/plans" && section === "/migrations");
              return (
                <NavItem key={n.to} isActive={active}>
                  <Link to={n.to} aria-current={active ? "page" : undefined}>
                    {n.label}
                  </Link>
                </NavItem>
              );
            })}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <SessionContext.Provider value={session}>
    <LiveProvider>
      <Page
        masthead={header}
        sidebar={sidebar}
        isManagedSidebar
        skipToContent={<SkipToContent href="#main">Skip to content</SkipToContent>}
        mainContainerId="main"
      >
        <Suspense fallback={<Loading what="the page" />}>{route(path)}</Suspense>
      </Page>
    </LiveProvider>
    </SessionContext.Provider>
  );
}
