-- batch 1
REVOKE SELECT ON TABLE "hr"."salaries" FROM GROUP "finance";
REVOKE USAGE ON SCHEMA "hr" FROM GROUP "finance";
/* state: forget forget */;

-- batch 2
GRANT SELECT ON TABLE "sales"."regions" TO GROUP "analyst";
GRANT USAGE ON SCHEMA "sales" TO GROUP "analyst";
GRANT CREATE ON SCHEMA "hr", "sales" TO GROUP "dataengineer";
GRANT DELETE ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO GROUP "dataengineer";
GRANT DROP ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO GROUP "dataengineer";
/* state: record record record record */;
/* state: record record record record */;
/* state: record record record record */;

-- batch 3
GRANT INSERT ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO GROUP "dataengineer";
GRANT SELECT ON TABLE "hr"."org_chart", "hr"."salaries", "sales"."customers", "sales"."orders" TO GROUP "dataengineer";
GRANT USAGE ON SCHEMA "hr", "sales" TO GROUP "dataengineer";
GRANT SELECT ON TABLE "hr"."org_chart" TO GROUP "hrpartner";
/* state: record record record record */;
/* state: record record record record */;
/* state: record record record */;

-- batch 4
GRANT USAGE ON SCHEMA "hr", "sales" TO GROUP "hrpartner";
REVOKE SELECT ON TABLE "sales"."orders" FROM GROUP "analyst";
GRANT SELECT ("amount", "order_date", "order_id") ON TABLE "sales"."orders" TO GROUP "analyst";
/* state: record record forget record */;

-- batch 5
GRANT SELECT ("customer_id", "name") ON TABLE "sales"."customers" TO GROUP "hrpartner";
/* state: record */;
