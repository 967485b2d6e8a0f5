DROP TABLE token_failures;
