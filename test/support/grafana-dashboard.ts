import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const dashboardFile = fileURLToPath(new URL('../../grafana/dashboards/isms-overview.json', import.meta.url));

export interface PanelQuery {
  title: string;
  sql: string;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { rawSql?: string }[];
}

/**
 * Every panel of the provisioned Grafana dashboard with its SQL, rows' panels included: the queries a test runs
 * against a catalog (SQLite now, PostgreSQL too) to hold the dashboard to the views' columns.
 */
export function dashboardPanelQueries(file = dashboardFile): PanelQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels?: Panel[] };
  const queries: PanelQuery[] = [];
  const visit = (panels: readonly Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.rawSql === undefined) throw new Error(`${file}: panel "${panel.title ?? '(untitled)'}" has a query without rawSql`);
        queries.push({ title: panel.title ?? '(untitled)', sql: target.rawSql });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels ?? []);
  return queries;
}
