DROP TABLE upload_parts;
DROP TABLE uploads;
DROP TABLE attachments;
