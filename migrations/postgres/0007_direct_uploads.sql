-- Images uploaded straight to the object store (a signed PUT): their record is written when
-- the upload is granted, before the service has seen a byte, and the bytes are checked at the
-- image's first use. `checked_at` is when they were; every earlier upload went through the
-- service, which checked it as it stored it.
ALTER TABLE images ADD COLUMN IF NOT EXISTS checked_at TIMESTAMP WITH TIME ZONE;
UPDATE images SET checked_at = created_at WHERE checked_at IS NULL;
