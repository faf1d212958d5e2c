"""Provider clients behind one small interface (`gateway.providers.base.Provider`)."""
