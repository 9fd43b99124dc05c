-- The previous (Python/Flask) service's schema, exactly as its init_db.py created it.
-- Every statement is IF NOT EXISTS: on a database of the old service this is a no-op.
CREATE TABLE IF NOT EXISTS users (
    id          VARCHAR(36) PRIMARY KEY,
    email       VARCHAR(255) UNIQUE NOT NULL,
    name        VARCHAR(255),
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE IF NOT EXISTS user_preferences (
    user_id               VARCHAR(36) PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    dietary_restrictions  TEXT[],
    nutrition_goals       JSONB,
    notifications_enabled BOOLEAN DEFAULT TRUE,
    created_at            TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at            TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS user_onboarding_data (
    user_id            VARCHAR(36) PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    age                INTEGER,
    gender             VARCHAR(20),
    height_cm          DECIMAL(5, 2),
    current_weight_kg  DECIMAL(5, 2),
    target_weight_kg   DECIMAL(5, 2),
    fitness_goal       VARCHAR(50),
    activity_level     VARCHAR(50),
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at         TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS food_entries (
    id            VARCHAR(36) PRIMARY KEY,
    user_id       VARCHAR(36) REFERENCES users(id) ON DELETE CASCADE,
    name          VARCHAR(255) NOT NULL,
    calories      DECIMAL(10, 2) NOT NULL,
    meal_type     VARCHAR(50) NOT NULL,
    serving_size  VARCHAR(255),
    protein       DECIMAL(10, 2),
    carbs         DECIMAL(10, 2),
    fat           DECIMAL(10, 2),
    notes         TEXT,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE IF NOT EXISTS user_badges (
    id                 SERIAL PRIMARY KEY,
    user_id            VARCHAR(36) REFERENCES users(id) ON DELETE CASCADE,
    badge_id           VARCHAR(255) NOT NULL,
    badge_name         VARCHAR(255) NOT NULL,
    badge_description  TEXT,
    earned_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (user_id, badge_id)
);
