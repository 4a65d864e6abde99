"""Every setting of the ML service, read from the environment (and .env) and validated."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ml_host: str = Field(default="127.0.0.1", description="Interface to bind; loopback by default.")
    ml_port: int = Field(default=8001, ge=0, le=65535)
    log_level: str = Field(default="info", pattern="^(critical|error|warning|info|debug|trace)$")
