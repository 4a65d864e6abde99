import { afterAll } from 'vitest';
import { writeCases } from './cases.ts';
import { installCrashRecorder } from './crashes.ts';

installCrashRecorder();
afterAll(() => writeCases());
