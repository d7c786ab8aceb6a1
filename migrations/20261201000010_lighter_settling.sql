-- Settling a journal row writes its attempt row. The attempt's foreign key checked and
-- share-locked the journal row on every insert, a quarter of the cost of settling; retention
-- now deletes a row's attempts together with the row, which the cascade used to do.
alter table hubsync.journal_attempts drop constraint if exists journal_attempts_journal_id_fkey;
