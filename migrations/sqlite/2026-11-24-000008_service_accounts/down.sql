DROP TABLE service_account_secrets;
DROP TABLE service_accounts;
