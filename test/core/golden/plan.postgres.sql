-- batch 1
REVOKE SELECT ON TABLE "hr"."salaries" FROM "finance";
REVOKE USAGE ON SCHEMA "hr" FROM "finance";
/* state: forget forget */;

-- batch 2
GRANT SELECT ON TABLE "sales"."regions" TO "analyst";
GRANT USAGE ON SCHEMA "sales" TO "analyst";
GRANT CREATE ON SCHEMA "hr", "sales" TO "dataengineer";
GRANT DELETE ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO "dataengineer";
GRANT INSERT ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO "dataengineer";
/* state: record record record record */;
/* state: record record record record */;
/* state: record record record record */;

-- batch 3
GRANT SELECT ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO "dataengineer";
GRANT USAGE ON SCHEMA "hr", "sales" TO "dataengineer";
GRANT SELECT ON TABLE "hr"."org_chart" TO "hrpartner";
GRANT USAGE ON SCHEMA "hr", "sales" TO "hrpartner";
/* state: record record record record */;
/* state: record record record record */;
/* state: record */;

-- batch 4
REVOKE SELECT ON TABLE "sales"."orders" FROM "analyst";
GRANT SELECT ("amount", "order_date", "order_id") ON TABLE "sales"."orders" TO "analyst";
GRANT SELECT ("customer_id", "name") ON TABLE "sales"."customers" TO "hrpartner";
/* state: forget record record */;
